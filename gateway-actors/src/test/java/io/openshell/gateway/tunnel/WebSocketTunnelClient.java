package io.openshell.gateway.tunnel;

import static org.junit.jupiter.api.Assertions.*;

import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.WebSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * A WebSocket client of the /connect/ssh tunnel built on the JDK's client, with no Pekko: tests that
 * shut a gateway's actor system down need a client that does not live in it.
 */
public final class WebSocketTunnelClient implements WebSocket.Listener {
  private final LinkedBlockingQueue<String> received = new LinkedBlockingQueue<>();
  /** How the tunnel ended ("closed 1000", "failed …"); incomplete while it is open. */
  public final CompletableFuture<String> closed = new CompletableFuture<>();
  private WebSocket socket;

  private WebSocketTunnelClient() {}

  public static CompletableFuture<WebSocketTunnelClient> open(int port, String sandboxId, String token) {
    WebSocketTunnelClient client = new WebSocketTunnelClient();
    return HttpClient.newHttpClient().newWebSocketBuilder()
        .header(ConnectRequest.SANDBOX_ID, sandboxId).header(ConnectRequest.SANDBOX_TOKEN, token)
        .connectTimeout(Duration.ofSeconds(10))
        .buildAsync(URI.create("ws://127.0.0.1:" + port + "/connect/ssh"), client)
        .thenApply(socket -> {
          client.socket = socket;
          return client;
        });
  }

  /** Sends {@code text} as one binary message and expects the echoing supervisor to send it back. */
  public void echoes(String text) throws Exception {
    socket.sendBinary(ByteBuffer.wrap(text.getBytes(StandardCharsets.UTF_8)), true).get(10, TimeUnit.SECONDS);
    StringBuilder got = new StringBuilder();
    while (got.length() < text.length()) {
      String chunk = received.poll(30, TimeUnit.SECONDS);
      assertNotNull(chunk, "the WebSocket tunnel echoes '" + text + "' (got '" + got + "', " + closed.getNow("open") + ")");
      got.append(chunk);
    }
    assertEquals(text, got.toString());
  }

  public void close() throws Exception {
    socket.sendClose(WebSocket.NORMAL_CLOSURE, "done").get(10, TimeUnit.SECONDS);
  }

  @Override
  public CompletionStage<?> onBinary(WebSocket webSocket, ByteBuffer data, boolean last) {
    received.add(StandardCharsets.UTF_8.decode(data).toString());
    webSocket.request(1);
    return null;
  }

  @Override
  public CompletionStage<?> onClose(WebSocket webSocket, int statusCode, String reason) {
    closed.complete("closed " + statusCode);
    return null;
  }

  @Override
  public void onError(WebSocket webSocket, Throwable error) {
    closed.complete("failed " + error);
  }
}
