package io.openshell.client;

import java.io.IOException;
import java.io.InputStream;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.cert.Certificate;
import java.util.Base64;
import java.util.Map;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLServerSocket;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManagerFactory;

/**
 * A throwaway TLS server on loopback for {@link ClassDataTraining}, so that the class-data archive holds the
 * classes of the CLI's TLS path too (the JDK's TLS, netty's SSL handler, the PEM and key-manager code): the
 * default local gateway is TLS, and without them {@code status} and {@code ssh-proxy} loaded over a thousand
 * classes from the jars on every start. Its certificate is self-signed for 127.0.0.1 by the JDK's keytool in
 * the training's temporary home and doubles as the user certificate; nothing outside the training run trusts
 * it. It completes each handshake (offering h2, as the gateway does), answers a CONNECT with 401 and closes
 * anything else.
 */
final class TrainingTlsServer implements AutoCloseable {
  private static final String PASSWORD = "training";

  private final SSLServerSocket socket;
  private final Map<String, String> variables;

  private TrainingTlsServer(SSLServerSocket socket, Map<String, String> variables) {
    this.socket = socket;
    this.variables = variables;
  }

  /** Makes the certificate under {@code dir} and starts accepting. */
  static TrainingTlsServer start(Path dir) throws IOException, GeneralSecurityException, InterruptedException {
    Path store = dir.resolve("training.p12");
    Process keytool = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "keytool").toString(), "-genkeypair",
        "-alias", "training", "-keyalg", "EC", "-groupname", "secp256r1", "-sigalg", "SHA256withECDSA", "-dname", "CN=openshell class-data training",
        "-ext", "san=ip:127.0.0.1", "-validity", "2", "-storetype", "PKCS12", "-keystore", store.toString(),
        "-storepass", PASSWORD, "-keypass", PASSWORD)
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    if (keytool.waitFor() != 0) throw new IOException("keytool failed with status " + keytool.exitValue());
    KeyStore keys = KeyStore.getInstance("PKCS12");
    try (InputStream in = Files.newInputStream(store)) {
      keys.load(in, PASSWORD.toCharArray());
    }
    Certificate certificate = keys.getCertificate("training");
    Path cert = dir.resolve("training.crt");
    Path key = dir.resolve("training.key");
    Files.writeString(cert, pem("CERTIFICATE", certificate.getEncoded()), StandardCharsets.US_ASCII);
    Files.writeString(key, pem("PRIVATE KEY", keys.getKey("training", PASSWORD.toCharArray()).getEncoded()), StandardCharsets.US_ASCII);

    KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, PASSWORD.toCharArray());
    TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
    trustManagers.init(keys);
    SSLContext context = SSLContext.getInstance("TLS");
    context.init(keyManagers.getKeyManagers(), trustManagers.getTrustManagers(), null);
    SSLServerSocket socket = (SSLServerSocket) context.getServerSocketFactory().createServerSocket(0, 8, InetAddress.getLoopbackAddress());
    SSLParameters parameters = socket.getSSLParameters();
    parameters.setApplicationProtocols(new String[] {"h2"});
    parameters.setWantClientAuth(true);
    socket.setSSLParameters(parameters);
    TrainingTlsServer server = new TrainingTlsServer(socket, Map.of("OPENSHELL_TLS_CA", cert.toString(),
        "OPENSHELL_TLS_CERT", cert.toString(), "OPENSHELL_TLS_KEY", key.toString()));
    Thread acceptor = new Thread(server::serve, "class-data-training-tls");
    acceptor.setDaemon(true);
    acceptor.start();
    return server;
  }

  /** The environment that points the CLI at this server's certificate. */
  Map<String, String> variables() {
    return variables;
  }

  String url() {
    return "https://127.0.0.1:" + socket.getLocalPort();
  }

  private void serve() {
    while (!socket.isClosed()) {
      try (SSLSocket connection = (SSLSocket) socket.accept()) {
        connection.setSoTimeout(10_000);
        connection.startHandshake();
        byte[] head = new byte[7];
        int read = connection.getInputStream().readNBytes(head, 0, head.length);
        if (new String(head, 0, read, StandardCharsets.US_ASCII).equals("CONNECT")) {
          connection.getOutputStream().write("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
          connection.getOutputStream().flush();
        }
      } catch (IOException | RuntimeException e) {
        // A refused or cut handshake still trained what it loaded; take the next connection.
      }
    }
  }

  private static String pem(String type, byte[] der) {
    return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, new byte[] {'\n'}).encodeToString(der) + "\n-----END " + type + "-----\n";
  }

  @Override
  public void close() throws IOException {
    socket.close();
  }
}
