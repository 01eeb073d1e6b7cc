package io.openshell.gateway.tunnel;

import java.io.BufferedInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;

/**
 * A plain-socket client of the CONNECT tunnel, as ssh-proxy or socat would be: writes a request head
 * (and whatever follows it), reads the response head, then raw bytes.
 */
public final class ConnectClient implements AutoCloseable {
  private final Socket socket;
  private final InputStream in;
  private final OutputStream out;
  private String responseHead;

  public ConnectClient(InetSocketAddress address) throws IOException {
    socket = new Socket();
    socket.connect(address, 5_000);
    socket.setSoTimeout(30_000);
    in = new BufferedInputStream(socket.getInputStream());
    out = socket.getOutputStream();
  }

  public static String connectHead(String sandboxId, String token) {
    return "CONNECT /connect/ssh HTTP/1.1\r\nHost: gateway\r\nX-Sandbox-Id: " + sandboxId
        + "\r\nX-Sandbox-Token: " + token + "\r\n\r\n";
  }

  public ConnectClient send(String text) throws IOException {
    return send(text.getBytes(StandardCharsets.ISO_8859_1));
  }

  public ConnectClient send(byte[] bytes) throws IOException {
    out.write(bytes);
    out.flush();
    return this;
  }

  /** Reads the response head and returns its status code. */
  public int status() throws IOException {
    ByteArrayOutputStream head = new ByteArrayOutputStream();
    int matched = 0;
    byte[] end = {'\r', '\n', '\r', '\n'};
    while (matched < 4) {
      int b = in.read();
      if (b < 0) throw new IOException("connection closed after " + head.size() + " bytes of response head: " + head);
      head.write(b);
      matched = b == end[matched] ? matched + 1 : (b == '\r' ? 1 : 0);
      if (head.size() > 65536) throw new IOException("response head too long");
    }
    responseHead = head.toString(StandardCharsets.ISO_8859_1);
    return Integer.parseInt(responseHead.split(" ", 3)[1]);
  }

  public String responseHead() {
    return responseHead;
  }

  public byte[] read(int n) throws IOException {
    return in.readNBytes(n);
  }

  /** Everything until the gateway closes the connection. */
  public String readToEnd() throws IOException {
    return new String(in.readAllBytes(), StandardCharsets.UTF_8);
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
