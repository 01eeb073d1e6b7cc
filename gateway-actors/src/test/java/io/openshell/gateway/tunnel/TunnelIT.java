package io.openshell.gateway.tunnel;

import static io.openshell.gateway.RandomBytes.randomBytes;
import static org.junit.jupiter.api.Assertions.*;

import io.openshell.gateway.AcceptingDriver;
import io.openshell.gateway.TestGateway;
import io.openshell.gateway.relay.EchoSupervisor;
import io.openshell.gateway.ssh.SshSession;
import io.openshell.gateway.ssh.SshSessions;
import io.openshell.protocol.v1.*;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.model.headers.RawHeader;
import org.apache.pekko.http.javadsl.model.ws.BinaryMessage;
import org.apache.pekko.http.javadsl.model.ws.Message;
import org.apache.pekko.http.javadsl.model.ws.WebSocketRequest;
import org.apache.pekko.http.javadsl.model.ws.WebSocketUpgradeResponse;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * The /connect/ssh tunnel on the real gateway (UPSTREAM §B 35–40): plain sockets against the CONNECT
 * listener and a WebSocket client against the main port, the test playing an echoing supervisor.
 * After every test all connection counters must be back at zero.
 */
class TunnelIT {
  private static TestGateway gateway;
  private static String sandboxId;

  @BeforeAll
  static void start() throws Exception {
    gateway = TestGateway.start("sqlite::memory:", Files.createTempDirectory("tunnel-it"), new AcceptingDriver(),
        "openshell.gateway.ssh-tunnel.request-head-timeout = 2s");
    sandboxId = readySandbox("tunnel", EchoSupervisor.Mode.ECHO);
  }

  @AfterAll
  static void stop() throws Exception {
    supervisors.forEach(EchoSupervisor::close);
    gateway.close();
  }

  @AfterEach
  void everyConnectionSlotIsReleased() {
    TestProbe<TunnelLeases.Counts> probe = TestProbe.create(gateway.system);
    probe.awaitAssert(Duration.ofSeconds(10), () -> {
      gateway.running.tunnelLeases().tell(new TunnelLeases.GetCounts("-", "-", probe.getRef()));
      TunnelLeases.Counts counts = probe.receiveMessage();
      assertEquals(0, counts.leases(), "open leases");
      assertEquals(0, counts.trackedKeys(), "tokens or sandboxes still counted");
      return null;
    });
  }

  private static final List<EchoSupervisor> supervisors = new ArrayList<>();

  private static String readySandbox(String name, EchoSupervisor.Mode mode) throws Exception {
    String id = gateway.client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance())
        .setName(name).build()).toCompletableFuture().get(30, TimeUnit.SECONDS).getSandbox().getId();
    EchoSupervisor echo = new EchoSupervisor(gateway.client, gateway.system, id, gateway.credential(id), mode);
    supervisors.add(echo);
    gateway.awaitReady(name);
    return id;
  }

  private static String token(String id) throws Exception {
    return gateway.client.createSshSession(CreateSshSessionRequest.newBuilder().setSandboxId(id).build())
        .toCompletableFuture().get(30, TimeUnit.SECONDS).getToken();
  }

  /** A session minted straight in the registry, for sandboxes CreateSshSession would refuse. */
  private static String registryToken(String id) throws Exception {
    return AskPattern.<SshSessions.Command, SshSession>ask(gateway.running.sshSessions(),
            replyTo -> new SshSessions.Create(id, "direct", replyTo), Duration.ofSeconds(10), gateway.system.scheduler())
        .toCompletableFuture().get(10, TimeUnit.SECONDS).token();
  }

  private static InetSocketAddress tunnel() {
    return gateway.running.sshTunnelAddress();
  }

  private static ConnectClient connect(String id, String token) throws IOException {
    ConnectClient client = new ConnectClient(tunnel());
    client.send(ConnectClient.connectHead(id, token));
    return client;
  }

  /** Opens a tunnel and proves it carries bytes. */
  private static ConnectClient established(String id, String token) throws IOException {
    ConnectClient client = connect(id, token);
    assertEquals(200, client.status(), client.responseHead());
    client.send("ping");
    assertArrayEquals("ping".getBytes(), client.read(4));
    return client;
  }

  private static void assertRefused(int status, String head) throws IOException {
    try (ConnectClient client = new ConnectClient(tunnel())) {
      client.send(head);
      assertEquals(status, client.status(), head);
      assertTrue(client.responseHead().contains("Connection: close\r\n"), client.responseHead());
      String body = client.readToEnd();
      assertTrue(body.endsWith("\n") && body.indexOf('\n') == body.length() - 1, "one line saying what to do: " + body);
    }
  }

  private static TunnelLeases.Counts counts(String token, String id) {
    TestProbe<TunnelLeases.Counts> probe = TestProbe.create(gateway.system);
    gateway.running.tunnelLeases().tell(new TunnelLeases.GetCounts(token, id, probe.getRef()));
    return probe.receiveMessage();
  }

  @Test
  void bytesRoundTripThroughConnectIncludingBytesSentRightAfterTheHead() throws Exception {
    String token = token(sandboxId);
    try (ConnectClient client = new ConnectClient(tunnel())) {
      client.send(ConnectClient.connectHead(sandboxId, token) + "SSH-2.0-early\r\n");
      assertEquals(200, client.status());
      assertEquals("HTTP/1.1 200 Connection Established\r\n\r\n", client.responseHead());
      assertEquals("SSH-2.0-early\r\n", new String(client.read(15)));

      byte[] payload = randomBytes(1 << 20, 7);
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          client.send(payload);
        } catch (IOException e) {
          throw new IllegalStateException(e);
        }
      });
      assertArrayEquals(payload, client.read(payload.length));
      writer.get(30, TimeUnit.SECONDS);
      assertEquals(1, counts(token, sandboxId).token());
    }
  }

  @Test
  void everyBadRequestGetsItsExactStatus() throws Exception {
    String token = token(sandboxId);
    String otherSandbox = readySandbox("tunnel-other", EchoSupervisor.Mode.ECHO);
    String revoked = token(sandboxId);
    assertTrue(gateway.client.revokeSshSession(RevokeSshSessionRequest.newBuilder().setToken(revoked).build())
        .toCompletableFuture().get(10, TimeUnit.SECONDS).getRevoked());

    assertRefused(405, "GET /connect/ssh HTTP/1.1\r\nx-sandbox-id: " + sandboxId + "\r\nx-sandbox-token: " + token + "\r\n\r\n");
    assertRefused(401, "CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-token: " + token + "\r\n\r\n");
    assertRefused(401, "CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-id: " + sandboxId + "\r\n\r\n");
    assertRefused(400, "CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-id: s\u00e9\r\nx-sandbox-token: " + token + "\r\n\r\n");
    assertRefused(400, "CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-id: " + sandboxId + "\r\nx-sandbox-token: \u00ff\r\n\r\n");
    assertRefused(400, "CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-id: \r\nx-sandbox-token: " + token + "\r\n\r\n");
    assertRefused(400, "CONNECT /connect/ssh HTTP/1.1\r\nx-sandbox-id: " + sandboxId + "\r\nx-sandbox-token:\r\n\r\n");
    assertRefused(401, ConnectClient.connectHead(sandboxId, "00000000-0000-4000-8000-000000000000"));
    assertRefused(401, ConnectClient.connectHead(sandboxId, revoked));
    assertRefused(401, ConnectClient.connectHead(otherSandbox, token));
    assertRefused(404, ConnectClient.connectHead("no-such-sandbox", registryToken("no-such-sandbox")));

    String notReady = gateway.client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance())
        .setName("tunnel-not-ready").build()).toCompletableFuture().get(30, TimeUnit.SECONDS).getSandbox().getId();
    assertRefused(412, ConnectClient.connectHead(notReady, registryToken(notReady)));

    String refusing = readySandbox("tunnel-refusing", EchoSupervisor.Mode.REFUSE);
    assertRefused(502, ConnectClient.connectHead(refusing, token(refusing)));
  }

  @Test
  void theFourthConnectionOnOneTokenIsRefused429UntilOneCloses() throws Exception {
    String token = token(sandboxId);
    List<ConnectClient> open = new ArrayList<>();
    for (int i = 0; i < 3; i++) open.add(established(sandboxId, token));
    assertRefused(429, ConnectClient.connectHead(sandboxId, token));
    assertEquals(3, counts(token, sandboxId).sandbox(), "the refusal did not count against the sandbox");
    open.remove(0).close();
    TestProbe.create(gateway.system).awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(2, counts(token, sandboxId).token());
      return null;
    });
    open.add(established(sandboxId, token));
    for (ConnectClient client : open) client.close();
  }

  @Test
  void theTwentyFirstConnectionToOneSandboxIsRefused429() throws Exception {
    List<String> tokens = new ArrayList<>();
    for (int t = 0; t < 7; t++) tokens.add(token(sandboxId));
    List<ConnectClient> open = new ArrayList<>();
    for (int i = 0; i < 20; i++) open.add(established(sandboxId, tokens.get(i / 3)));
    assertEquals(20, counts(tokens.get(6), sandboxId).sandbox());
    assertRefused(429, ConnectClient.connectHead(sandboxId, tokens.get(6)));
    assertEquals(2, counts(tokens.get(6), sandboxId).token(), "the per-sandbox refusal rolled the token's count back");
    for (ConnectClient client : open) client.close();
  }

  @Test
  void aOneMebibyteHeadIsCutOffAndTheGatewayStillServesTheNextRequest() throws Exception {
    try (ConnectClient client = new ConnectClient(tunnel())) {
      byte[] huge = ("CONNECT /connect/ssh HTTP/1.1\r\nx-padding: " + "p".repeat(1 << 20)).getBytes();
      CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> {
        try {
          client.send(huge);
        } catch (IOException expected) {
          // The gateway closes after its answer; the rest of the write may be refused.
        }
      });
      try {
        assertEquals(431, client.status());
      } catch (IOException reset) {
        // A reset may overtake the 431 on the wire; either way the gateway stopped reading.
      }
      writer.get(30, TimeUnit.SECONDS);
    }
    try (ConnectClient next = established(sandboxId, token(sandboxId))) {
      assertNotNull(next.responseHead());
    }
  }

  @Test
  void aHeadThatDoesNotArriveInTimeIsAnswered408() throws Exception {
    try (ConnectClient client = new ConnectClient(tunnel())) {
      client.send("CONNECT /connect/ssh HTTP/1.1\r\n");
      assertEquals(408, client.status());
    }
  }

  @Test
  void aClientThatClosesRightAfterItsHeadFreesItsSlot() throws Exception {
    String token = token(sandboxId);
    for (int i = 0; i < 5; i++) {
      connect(sandboxId, token).close();
    }
    // The @AfterEach check proves every slot came back; three more tunnels on the token prove it too.
    List<ConnectClient> open = new ArrayList<>();
    TestProbe.create(gateway.system).awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(0, counts(token, sandboxId).token());
      return null;
    });
    for (int i = 0; i < 3; i++) open.add(established(sandboxId, token));
    for (ConnectClient client : open) client.close();
  }

  @Test
  void aDeletedSandboxsTokensOpenNoTunnel() throws Exception {
    String id = readySandbox("tunnel-deleted", EchoSupervisor.Mode.ECHO);
    String token = token(id);
    established(id, token).close();
    gateway.client.deleteSandbox(DeleteSandboxRequest.newBuilder().setName("tunnel-deleted").build())
        .toCompletableFuture().get(30, TimeUnit.SECONDS);
    // 401, not 404: the sandbox's sessions were deleted with it.
    TestProbe.create(gateway.system).awaitAssert(Duration.ofSeconds(10), () -> {
      assertRefused(401, ConnectClient.connectHead(id, token));
      return null;
    });
  }

  // --- WebSocket ------------------------------------------------------------------------------

  private static WebSocketRequest webSocket(String id, String token) {
    return WebSocketRequest.create("ws://127.0.0.1:" + gateway.running.port() + "/connect/ssh")
        .addHeader(RawHeader.create("x-sandbox-id", id))
        .addHeader(RawHeader.create("x-sandbox-token", token));
  }

  @Test
  void bytesRoundTripThroughTheWebSocketIncludingStreamedMessages() throws Exception {
    String token = token(sandboxId);
    byte[] strict = randomBytes(100_000, 11);
    byte[] streamed = randomBytes(300_000, 12);
    int total = strict.length + streamed.length;
    List<ByteString> chunks = new ArrayList<>();
    for (int offset = 0; offset < streamed.length; offset += 7_000) {
      chunks.add(ByteString.fromArray(streamed, offset, Math.min(7_000, streamed.length - offset)));
    }
    CompletableFuture<java.util.Optional<Message>> keepOpen = new CompletableFuture<>();
    Source<Message, ?> outgoing = Source.<Message>from(List.of(
            BinaryMessage.create(ByteString.fromArray(strict)),
            BinaryMessage.create(Source.from(chunks))))
        .concat(Source.<Message>maybe().mapMaterializedValue(promise -> {
          keepOpen.thenAccept(promise::complete);
          return promise;
        }));
    Sink<Message, CompletionStage<ByteString>> incoming = Flow.<Message>create()
        .flatMapConcat(message -> message.asBinaryMessage().getStreamedData())
        .scan(ByteString.emptyByteString(), ByteString::concat)
        .dropWhile(received -> received.size() < total)
        .toMat(Sink.head(), Keep.right());
    Pair<CompletionStage<WebSocketUpgradeResponse>, CompletionStage<ByteString>> result = Http.get(gateway.system)
        .singleWebSocketRequest(webSocket(sandboxId, token), Flow.fromSinkAndSourceMat(incoming, outgoing, Keep.left()),
            org.apache.pekko.stream.Materializer.matFromSystem(gateway.system));
    WebSocketUpgradeResponse upgrade = result.first().toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertEquals(101, upgrade.response().status().intValue());
    assertEquals(ByteString.fromArray(strict).concat(ByteString.fromArray(streamed)),
        result.second().toCompletableFuture().get(60, TimeUnit.SECONDS));
    assertEquals(1, counts(token, sandboxId).token(), "the WebSocket holds a slot like a CONNECT tunnel");
    keepOpen.complete(java.util.Optional.empty());
  }

  @Test
  void theWebSocketRouteRefusesWithTheSameCodes() throws Exception {
    String token = token(sandboxId);
    assertEquals(401, webSocketStatus(webSocket(sandboxId, "00000000-0000-4000-8000-000000000000")));
    assertEquals(401, webSocketStatus(WebSocketRequest.create("ws://127.0.0.1:" + gateway.running.port() + "/connect/ssh")
        .addHeader(RawHeader.create("x-sandbox-id", sandboxId))));
    assertEquals(400, webSocketStatus(webSocket("", token)));
    assertEquals(404, webSocketStatus(webSocket("no-such-sandbox", registryToken("no-such-sandbox"))));
    List<ConnectClient> open = new ArrayList<>();
    for (int i = 0; i < 3; i++) open.add(established(sandboxId, token));
    assertEquals(429, webSocketStatus(webSocket(sandboxId, token)), "one counter for both transports");
    for (ConnectClient client : open) client.close();
  }

  private static int webSocketStatus(WebSocketRequest request) throws Exception {
    Pair<CompletionStage<WebSocketUpgradeResponse>, org.apache.pekko.NotUsed> result = Http.get(gateway.system)
        .singleWebSocketRequest(request, Flow.fromSinkAndSource(Sink.<Message>ignore(), Source.<Message>maybe()),
            org.apache.pekko.stream.Materializer.matFromSystem(gateway.system));
    return result.first().toCompletableFuture().get(30, TimeUnit.SECONDS).response().status().intValue();
  }
}
