package io.openshell.gateway.relay;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code openshell.gateway.relay}: the relay plane's limits (defaults are upstream's constants). */
public record RelaySettings(Duration claimTimeout, int maxPendingPerSandbox, int maxPendingPerNode,
    int frameSize, Duration sshSessionWait, Duration execSessionWait) {

  public static RelaySettings fromConfig(Config gateway) {
    Config c = gateway.getConfig("relay");
    return new RelaySettings(c.getDuration("claim-timeout"), c.getInt("max-pending-per-sandbox"),
        c.getInt("max-pending-per-node"), (int) c.getMemorySize("frame-size").toBytes(),
        c.getDuration("ssh-session-wait"), c.getDuration("exec-session-wait"));
  }
}
