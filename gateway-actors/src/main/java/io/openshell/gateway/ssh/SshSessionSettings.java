package io.openshell.gateway.ssh;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code openshell.gateway.ssh-session}: how long tokens live and how often dead ones are dropped. */
public record SshSessionSettings(Duration ttl, Duration reapInterval, int snapshotEvery) {

  public static SshSessionSettings fromConfig(Config gateway) {
    Config c = gateway.getConfig("ssh-session");
    return new SshSessionSettings(c.getDuration("ttl"), c.getDuration("reap-interval"), c.getInt("snapshot-every"));
  }

  /** Expiry of a session created now; 0 when the TTL is 0 (sessions never expire). */
  public long expiresAtMs(long createdAtMs) {
    return ttl.isZero() ? 0 : createdAtMs + ttl.toMillis();
  }
}
