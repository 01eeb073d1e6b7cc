package io.openshell.client.connection;

import io.openshell.client.gateway.LocalGateway;
import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.Certificate;
import java.security.cert.CertificateFactory;
import java.security.spec.PKCS8EncodedKeySpec;
import java.util.Base64;
import java.util.Collection;
import java.util.Optional;
import javax.crypto.spec.PBEParameterSpec;
import javax.net.ssl.KeyManager;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.TrustManagerFactory;

/**
 * The TLS files the CLI (and ssh-proxy) use with an https gateway: the CA that signed the gateway's
 * certificate and, for user RPCs, a user client certificate with its key. Plain JDK, so the lean
 * ssh-proxy can use it without loading more than the JDK's TLS.
 *
 * <p>Where they come from: the local gateway's {@code <state>/gateway/tls} for the local gateway;
 * for any other gateway {@code OPENSHELL_TLS_CA} (+ {@code OPENSHELL_TLS_CERT}/{@code OPENSHELL_TLS_KEY}),
 * else the local gateway's files if they exist (a local gateway reached by URL), else none (the JDK's
 * default trust, no client certificate).
 */
public record GatewayTls(Path ca, Optional<Path> cert, Optional<Path> key) {
  static final String CA = "ca.crt";
  static final String CLIENT_CERT = "client.crt";
  static final String CLIENT_KEY = "client.key";

  /** For gRPC calls to {@code endpoint}; empty for http endpoints. */
  public static Optional<GatewayTls> forEndpoint(String endpoint, Environment environment) {
    if (!endpoint.startsWith("https://")) return Optional.empty();
    LocalGateway local = new LocalGateway(environment);
    if (local.running().map(endpoint::equals).orElse(false)) return localFiles(environment);
    return fromVariables(environment).or(() -> localFiles(environment));
  }

  /**
   * For the SSH tunnel (its own port, so it cannot be matched to the local endpoint): variables, else local
   * files; trust only, since the token authorizes there (and ssh-proxy then skips loading a key).
   */
  public static Optional<GatewayTls> forTunnel(Environment environment, boolean localGateway) {
    Optional<GatewayTls> files = localGateway ? localFiles(environment) : fromVariables(environment).or(() -> localFiles(environment));
    return files.map(tls -> new GatewayTls(tls.ca(), Optional.empty(), Optional.empty()));
  }

  static Optional<GatewayTls> localFiles(Environment environment) {
    Path dir = environment.localGatewayStateDir().resolve("tls");
    if (!Files.isRegularFile(dir.resolve(CA))) return Optional.empty();
    boolean client = Files.isRegularFile(dir.resolve(CLIENT_CERT)) && Files.isRegularFile(dir.resolve(CLIENT_KEY));
    return Optional.of(new GatewayTls(dir.resolve(CA), client ? Optional.of(dir.resolve(CLIENT_CERT)) : Optional.empty(),
        client ? Optional.of(dir.resolve(CLIENT_KEY)) : Optional.empty()));
  }

  static Optional<GatewayTls> fromVariables(Environment environment) {
    Optional<String> ca = environment.get("OPENSHELL_TLS_CA");
    Optional<String> cert = environment.get("OPENSHELL_TLS_CERT");
    Optional<String> key = environment.get("OPENSHELL_TLS_KEY");
    if (cert.isPresent() != key.isPresent()) {
      throw new CliException("OPENSHELL_TLS_CERT and OPENSHELL_TLS_KEY go together (a user certificate and its key)", 2);
    }
    if (ca.isEmpty()) {
      if (cert.isPresent()) throw new CliException("OPENSHELL_TLS_CERT needs OPENSHELL_TLS_CA (the CA that signed the gateway's certificate)", 2);
      return Optional.empty();
    }
    return Optional.of(new GatewayTls(Path.of(ca.get()), cert.map(Path::of), key.map(Path::of)));
  }

  /** A client context trusting {@link #ca} and presenting the client certificate when there is one. */
  public SSLContext sslContext() {
    try {
      KeyStore trusted = KeyStore.getInstance("PKCS12");
      trusted.load(null, null);
      int i = 0;
      for (Certificate certificate : certificates(ca)) trusted.setCertificateEntry("ca-" + i++, certificate);
      TrustManagerFactory trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
      trustManagers.init(trusted);
      KeyManager[] keyManagers = null;
      if (cert.isPresent() && key.isPresent()) {
        keyManagers = keyManagers(certificates(cert.get()), privateKey(key.get()));
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers, trustManagers.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | IOException e) {
      throw failure(e);
    }
  }

  /**
   * The JDK's key managers for the client certificate, for grpc-java's channel (which would otherwise build
   * the same store from the PEM files itself). {@code certPem} and {@code keyPem} are the contents of
   * {@link #cert} and {@link #key}.
   */
  public KeyManager[] keyManagers(byte[] certPem, byte[] keyPem) {
    try {
      Collection<? extends Certificate> chain = CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(certPem));
      if (chain.isEmpty()) throw new CliException(cert.orElseThrow() + " holds no PEM certificate");
      return keyManagers(chain, privateKey(key.orElseThrow(), new String(keyPem, StandardCharsets.US_ASCII)));
    } catch (GeneralSecurityException | IOException e) {
      throw failure(e);
    }
  }

  /**
   * The key sits in an in-memory PKCS#12 store only to reach the JDK's key manager. Its entry is protected
   * with one PBKDF2 iteration, not the default 10,000: that protection never leaves this process (the key
   * is read from an unencrypted file and the store is never written), and 10,000 iterations to put it in
   * and 10,000 more to take it out were about a quarter of the sampled time of {@code status} over TLS, 0.1–0.2 s
   * of CPU (docs/benchmarks.md).
   */
  private static KeyManager[] keyManagers(Collection<? extends Certificate> chain, PrivateKey privateKey)
      throws GeneralSecurityException, IOException {
    KeyStore keys = KeyStore.getInstance("PKCS12");
    keys.load(null, null);
    keys.setEntry("user", new KeyStore.PrivateKeyEntry(privateKey, chain.toArray(Certificate[]::new)),
        new KeyStore.PasswordProtection(new char[0], "PBEWithHmacSHA256AndAES_256", new PBEParameterSpec(new byte[20], 1)));
    KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
    keyManagers.init(keys, new char[0]);
    return keyManagers.getKeyManagers();
  }

  private CliException failure(Exception e) {
    return new CliException("cannot use the TLS files (CA " + ca + cert.map(c -> ", certificate " + c).orElse("") + "): "
        + e.getMessage());
  }

  private static Collection<? extends Certificate> certificates(Path file) throws IOException, GeneralSecurityException {
    try (InputStream in = Files.newInputStream(file)) {
      Collection<? extends Certificate> certificates = CertificateFactory.getInstance("X.509").generateCertificates(in);
      if (certificates.isEmpty()) throw new CliException(file + " holds no PEM certificate");
      return certificates;
    }
  }

  /** Unencrypted PKCS#8 ({@code BEGIN PRIVATE KEY}), EC or RSA: what the gateway's local CA writes. */
  static PrivateKey privateKey(Path file) throws IOException, GeneralSecurityException {
    return privateKey(file, Files.readString(file, StandardCharsets.US_ASCII));
  }

  private static PrivateKey privateKey(Path file, String pem) throws GeneralSecurityException {
    int begin = pem.indexOf("-----BEGIN PRIVATE KEY-----");
    int end = pem.indexOf("-----END PRIVATE KEY-----");
    if (begin < 0 || end < begin) {
      throw new CliException(file + " is not an unencrypted PKCS#8 PEM key; convert it with"
          + " 'openssl pkcs8 -topk8 -nocrypt -in " + file + " -out key.pem'");
    }
    byte[] der = Base64.getMimeDecoder().decode(pem.substring(begin + "-----BEGIN PRIVATE KEY-----".length(), end));
    PKCS8EncodedKeySpec spec = new PKCS8EncodedKeySpec(der);
    for (String algorithm : new String[] {"EC", "RSA", "Ed25519"}) {
      try {
        return KeyFactory.getInstance(algorithm).generatePrivate(spec);
      } catch (java.security.spec.InvalidKeySpecException wrongAlgorithm) {
        // try the next one
      }
    }
    throw new CliException(file + " holds a key of an unsupported algorithm (EC, RSA and Ed25519 are)");
  }
}
