package io.openshell.gateway.tls;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.util.Optional;

/**
 * {@code openshell.gateway.disable-tls}, {@code disable-gateway-auth} and {@code tls.*}: whether both
 * listeners speak TLS, whether user RPCs need a user client certificate, and the operator's files
 * (none given: the gateway's local CA).
 */
public record TlsSettings(boolean enabled, boolean userAuth, Optional<Path> cert, Optional<Path> key,
    Optional<Path> clientCa, Optional<Path> sandboxCa) {

  public static TlsSettings fromConfig(Config gateway) {
    return new TlsSettings(!gateway.getBoolean("disable-tls"), !gateway.getBoolean("disable-gateway-auth"),
        path(gateway, "tls.cert"), path(gateway, "tls.key"), path(gateway, "tls.client-ca"), path(gateway, "tls.sandbox-ca"));
  }

  public static TlsSettings plaintext() {
    return new TlsSettings(false, false, Optional.empty(), Optional.empty(), Optional.empty(), Optional.empty());
  }

  /** No TLS files given: the gateway makes (or reuses) its own CA. */
  public boolean local() {
    return cert.isEmpty() && key.isEmpty() && clientCa.isEmpty();
  }

  private static Optional<Path> path(Config c, String key) {
    String value = c.getString(key);
    return value.isBlank() ? Optional.empty() : Optional.of(Path.of(value).toAbsolutePath());
  }
}
