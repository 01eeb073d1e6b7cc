package io.openshell.client.sshproxy;

import static java.nio.charset.StandardCharsets.US_ASCII;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Function;

/**
 * A stand-in for the gateway's tunnel listener: reads each CONNECT head, answers with the status the test
 * chooses for it, and on 200 behaves like an SSH server behind the relay: sends a banner in the same write
 * as the response head, echoes what it receives until the client half-closes, then says "bye" and closes.
 */
public final class FakeTunnelGateway implements AutoCloseable {
  public static final String BANNER = "SSH-2.0-FakeSandbox\r\n";

  private final ServerSocket server;
  private final ExecutorService threads = Executors.newCachedThreadPool();
  private final List<String> heads = new CopyOnWriteArrayList<>();
  private final Function<String, Integer> statusForHead;

  public FakeTunnelGateway(Function<String, Integer> statusForHead) throws IOException {
    this.statusForHead = statusForHead;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    threads.execute(this::accept);
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Every CONNECT head received so far, in order. */
  public List<String> heads() {
    return heads;
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket socket = server.accept();
        threads.execute(() -> serve(socket));
      } catch (IOException closed) {
        return;
      }
    }
  }

  private void serve(Socket socket) {
    try (socket) {
      InputStream in = socket.getInputStream();
      OutputStream out = socket.getOutputStream();
      String head = readHead(in);
      heads.add(head);
      int status = statusForHead.apply(head);
      if (status != 200) {
        out.write(("HTTP/1.1 " + status + " Nope\r\ncontent-length: 0\r\n\r\n").getBytes(US_ASCII));
        return;
      }
      out.write(("HTTP/1.1 200 Connection Established\r\n\r\n" + BANNER).getBytes(US_ASCII));
      out.flush();
      in.transferTo(out);
      out.write("bye".getBytes(US_ASCII));
    } catch (IOException e) {
      // the test sees the consequences on the client side
    }
  }

  private static String readHead(InputStream in) throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    while (!head.toString(US_ASCII).endsWith("\r\n\r\n")) {
      int b = in.read();
      if (b < 0) break;
      head.write(b);
    }
    return head.toString(US_ASCII);
  }

  @Override
  public void close() throws IOException {
    server.close();
    threads.shutdownNow();
  }
}
