package io.openshell.gateway.tls;

import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.KeyStore;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Clock;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;
import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.TrustManagerFactory;
import org.apache.pekko.http.javadsl.ConnectionContext;
import org.apache.pekko.http.javadsl.HttpsConnectionContext;

/**
 * The gateway's TLS, resolved once at start from {@link TlsSettings}: the server key and chain, the
 * CA that user certificates must chain to, and the CA file sandboxes are given to verify the gateway.
 * Plaintext when TLS is disabled.
 */
public final class GatewayTls {
  /** The directory of the local CA under the gateway's state dir. */
  public static final String LOCAL_DIR = "tls";

  private final TlsSettings settings;
  private final SSLContext context;
  private final Optional<Path> sandboxCa;
  private final Optional<Path> localDir;

  private GatewayTls(TlsSettings settings, SSLContext context, Optional<Path> sandboxCa, Optional<Path> localDir) {
    this.settings = settings;
    this.context = context;
    this.sandboxCa = sandboxCa;
    this.localDir = localDir;
  }

  public static GatewayTls plaintext() {
    return new GatewayTls(TlsSettings.plaintext(), null, Optional.empty(), Optional.empty());
  }

  /**
   * Checks the combination of settings and loads (or, for a local start, creates) the files.
   * {@code serverNames} are extra names the server certificate of a local CA must carry.
   *
   * @throws IllegalArgumentException with a message that says which flag to add or drop
   */
  public static GatewayTls resolve(TlsSettings settings, Path stateDir, Collection<String> serverNames) {
    if (!settings.enabled()) {
      if (!settings.local()) {
        throw new IllegalArgumentException("--disable-tls contradicts --tls-cert/--tls-key/--tls-client-ca: drop one or the other");
      }
      return plaintext();
    }
    if (settings.local()) {
      Path dir = stateDir.resolve(LOCAL_DIR);
      LocalCertificateAuthority.Material local = new LocalCertificateAuthority(dir, Clock.systemUTC()).ensure(serverNames);
      return new GatewayTls(settings, context(local.serverCert(), local.serverKey(),
          settings.userAuth() ? Optional.of(local.caCert()) : Optional.empty()),
          Optional.of(settings.sandboxCa().orElse(local.caCert())), Optional.of(dir));
    }
    if (settings.cert().isEmpty() || settings.key().isEmpty()) {
      throw new IllegalArgumentException("TLS needs both --tls-cert and --tls-key (or neither, for the gateway's own local CA)");
    }
    if (settings.userAuth() && settings.clientCa().isEmpty()) {
      throw new IllegalArgumentException("--tls-client-ca is needed to verify user certificates; give it, or"
          + " --disable-gateway-auth to accept calls without a client certificate");
    }
    for (Optional<Path> file : List.of(settings.cert(), settings.key(), settings.clientCa(), settings.sandboxCa())) {
      if (file.isPresent() && !Files.isReadable(file.get())) {
        throw new IllegalArgumentException("cannot read TLS file " + file.get());
      }
    }
    Optional<Path> clientCa = settings.userAuth() ? settings.clientCa() : Optional.empty();
    // Sandboxes verify the gateway with: the configured file, else the client CA (one operator CA
    // for both), else the server chain itself.
    Path sandboxCa = settings.sandboxCa().or(settings::clientCa).orElse(settings.cert().get());
    return new GatewayTls(settings, context(settings.cert().get(), settings.key().get(), clientCa), Optional.of(sandboxCa),
        Optional.empty());
  }

  public boolean enabled() {
    return settings.enabled();
  }

  /** User RPCs need a user client certificate (TLS on, gateway auth not disabled). */
  public boolean userAuth() {
    return settings.enabled() && settings.userAuth();
  }

  public String scheme() {
    return enabled() ? "https" : "http";
  }

  /** The CA file sandboxes trust to verify the gateway (empty when plaintext). */
  public Optional<Path> sandboxCa() {
    return sandboxCa;
  }

  /** The local CA's directory, when the gateway made its own. */
  public Optional<Path> localDir() {
    return localDir;
  }

  /** Main port: asks for ("wants"), never requires, a client certificate; {@link UserAuthorization} decides per call. */
  public HttpsConnectionContext mainPort() {
    return ConnectionContext.httpsServer(() -> {
      SSLEngine engine = context.createSSLEngine();
      engine.setUseClientMode(false);
      if (userAuth()) engine.setWantClientAuth(true);
      return engine;
    });
  }

  /** Tunnel port: server authentication only; the SSH token in the CONNECT head authorizes. */
  public Supplier<SSLEngine> tunnelPort() {
    return () -> {
      SSLEngine engine = context.createSSLEngine();
      engine.setUseClientMode(false);
      return engine;
    };
  }

  private static SSLContext context(Path certFile, Path keyFile, Optional<Path> clientCa) {
    List<X509Certificate> chain = PemFiles.readCertificates(certFile);
    PrivateKey key = PemFiles.readPrivateKey(keyFile);
    try {
      char[] password = new char[0];
      KeyStore keys = KeyStore.getInstance("PKCS12");
      keys.load(null, null);
      keys.setKeyEntry("gateway", key, password, chain.toArray(X509Certificate[]::new));
      KeyManagerFactory keyManagers = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
      keyManagers.init(keys, password);
      TrustManagerFactory trustManagers = null;
      if (clientCa.isPresent()) {
        KeyStore trusted = KeyStore.getInstance("PKCS12");
        trusted.load(null, null);
        int i = 0;
        for (X509Certificate ca : PemFiles.readCertificates(clientCa.get())) trusted.setCertificateEntry("client-ca-" + i++, ca);
        trustManagers = TrustManagerFactory.getInstance(TrustManagerFactory.getDefaultAlgorithm());
        trustManagers.init(trusted);
      }
      SSLContext context = SSLContext.getInstance("TLS");
      context.init(keyManagers.getKeyManagers(), trustManagers == null ? null : trustManagers.getTrustManagers(), null);
      return context;
    } catch (GeneralSecurityException | java.io.IOException e) {
      throw new IllegalArgumentException("cannot use TLS key " + keyFile + " with certificate " + certFile + ": " + e.getMessage(), e);
    }
  }
}
