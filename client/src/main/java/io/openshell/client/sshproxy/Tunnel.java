package io.openshell.client.sshproxy;

import io.openshell.client.sshsession.SshSession;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.SSLSocketFactory;
import java.util.function.Supplier;

/** One {@code CONNECT} to the gateway's SSH tunnel: the open socket and the gateway's answer. */
final class Tunnel implements AutoCloseable {
  private static final int CONNECT_TIMEOUT_MS = 10_000;
  // The gateway answers once the sandbox's relay is open, which may wait up to 30 s for its supervisor.
  private static final int ANSWER_TIMEOUT_MS = 60_000;

  private final Socket socket;
  private final ConnectResponse response;

  private Tunnel(Socket socket, ConnectResponse response) {
    this.socket = socket;
    this.response = response;
  }

  Socket socket() {
    return socket;
  }

  ConnectResponse response() {
    return response;
  }

  /** {@code tls} is asked for a socket factory only when the session's scheme is https. */
  static Tunnel open(SshSession session, Supplier<SSLSocketFactory> tls) throws IOException {
    Socket socket = new Socket();
    try {
      socket.setTcpNoDelay(true);
      socket.connect(new InetSocketAddress(session.socketHost(), session.port()), CONNECT_TIMEOUT_MS);
      if ("https".equals(session.scheme())) socket = tls(tls.get(), socket, session);
      socket.setSoTimeout(ANSWER_TIMEOUT_MS);
      OutputStream out = socket.getOutputStream();
      out.write(request(session));
      out.flush();
      ConnectResponse response = ConnectResponse.read(socket.getInputStream(), ConnectResponse.MAX_HEAD_BYTES);
      socket.setSoTimeout(0);
      return new Tunnel(socket, response);
    } catch (IOException | RuntimeException e) {
      socket.close();
      throw e;
    }
  }

  /** The request head; header names as UPSTREAM.md §F writes them (HTTP header names are case-insensitive). */
  static byte[] request(SshSession session) {
    String head = "CONNECT " + session.connectPath() + " HTTP/1.1\r\n"
        + "Host: " + session.authority() + "\r\n"
        + "X-Sandbox-Id: " + session.sandboxId() + "\r\n"
        + "X-Sandbox-Token: " + session.token() + "\r\n"
        + "\r\n";
    return head.getBytes(StandardCharsets.US_ASCII);
  }

  private static Socket tls(SSLSocketFactory factory, Socket plain, SshSession session) throws IOException {
    SSLSocket tls = (SSLSocket) factory.createSocket(plain, session.socketHost(), session.port(), true);
    SSLParameters parameters = tls.getSSLParameters();
    parameters.setEndpointIdentificationAlgorithm("HTTPS");
    tls.setSSLParameters(parameters);
    tls.startHandshake();
    return tls;
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
