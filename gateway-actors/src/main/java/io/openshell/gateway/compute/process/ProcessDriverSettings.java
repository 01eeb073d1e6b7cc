package io.openshell.gateway.compute.process;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** {@code openshell.gateway.process-driver} plus what the gateway decides at start (endpoint, command). */
public record ProcessDriverSettings(Path stateDir, String gatewayEndpoint, List<String> supervisorCommand,
    Isolation isolation, Duration stopGrace, Duration restartInitial, Duration restartMax, int crashLoopExits,
    Duration crashLoopWindow, boolean classDataSharing, Optional<Path> tlsCa) {

  public enum Isolation { AUTO, BWRAP, NONE }

  /** A plaintext gateway's settings: supervisors get no CA. */
  public ProcessDriverSettings(Path stateDir, String gatewayEndpoint, List<String> supervisorCommand, Isolation isolation,
      Duration stopGrace, Duration restartInitial, Duration restartMax, int crashLoopExits, Duration crashLoopWindow,
      boolean classDataSharing) {
    this(stateDir, gatewayEndpoint, supervisorCommand, isolation, stopGrace, restartInitial, restartMax, crashLoopExits,
        crashLoopWindow, classDataSharing, Optional.empty());
  }

  public static ProcessDriverSettings fromConfig(Config gateway, Path stateDir, String gatewayEndpoint,
      List<String> supervisorCommand) {
    Config c = gateway.getConfig("process-driver");
    return new ProcessDriverSettings(stateDir, gatewayEndpoint, List.copyOf(supervisorCommand),
        Isolation.valueOf(c.getString("isolation").toUpperCase(java.util.Locale.ROOT)),
        c.getDuration("stop-grace"), c.getDuration("restart.initial"), c.getDuration("restart.max"),
        c.getInt("restart.crash-loop-exits"), c.getDuration("restart.crash-loop-window"),
        c.getBoolean("class-data-sharing"), Optional.empty());
  }

  /** The CA file supervisors verify an https gateway with; bound read-only into each sandbox. */
  public ProcessDriverSettings withTlsCa(Optional<Path> ca) {
    return new ProcessDriverSettings(stateDir, gatewayEndpoint, supervisorCommand, isolation, stopGrace, restartInitial,
        restartMax, crashLoopExits, crashLoopWindow, classDataSharing, ca);
  }
}
