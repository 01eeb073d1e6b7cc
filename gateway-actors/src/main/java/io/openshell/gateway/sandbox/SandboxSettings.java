package io.openshell.gateway.sandbox;

import com.typesafe.config.Config;
import java.time.Duration;

/** {@code openshell.gateway.sandbox}: limits and timeouts of the sandbox API. */
public record SandboxSettings(int listDefaultLimit, int listMaxLimit, Duration askTimeout,
    Duration driverCallTimeout, int snapshotEvery, boolean requireSupervisorCredential) {

  /** With supervisor credentials required, the default. */
  public SandboxSettings(int listDefaultLimit, int listMaxLimit, Duration askTimeout, Duration driverCallTimeout,
      int snapshotEvery) {
    this(listDefaultLimit, listMaxLimit, askTimeout, driverCallTimeout, snapshotEvery, true);
  }

  public static SandboxSettings fromConfig(Config gateway) {
    Config c = gateway.getConfig("sandbox");
    return new SandboxSettings(c.getInt("list-default-limit"), c.getInt("list-max-limit"),
        c.getDuration("ask-timeout"), c.getDuration("driver-call-timeout"), c.getInt("snapshot-every"),
        c.getBoolean("require-supervisor-credential"));
  }
}
