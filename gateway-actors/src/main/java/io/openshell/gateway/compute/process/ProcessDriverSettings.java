package io.openshell.gateway.compute.process;

import com.typesafe.config.Config;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/** {@code openshell.gateway.process-driver} plus what the gateway decides at start (endpoint, command). */
public record ProcessDriverSettings(Path stateDir, String gatewayEndpoint, List<String> supervisorCommand,
    Isolation isolation, Duration stopGrace, Duration restartInitial, Duration restartMax, int crashLoopExits,
    Duration crashLoopWindow, boolean classDataSharing) {

  public enum Isolation { AUTO, BWRAP, NONE }

  public static ProcessDriverSettings fromConfig(Config gateway, Path stateDir, String gatewayEndpoint,
      List<String> supervisorCommand) {
    Config c = gateway.getConfig("process-driver");
    return new ProcessDriverSettings(stateDir, gatewayEndpoint, List.copyOf(supervisorCommand),
        Isolation.valueOf(c.getString("isolation").toUpperCase(java.util.Locale.ROOT)),
        c.getDuration("stop-grace"), c.getDuration("restart.initial"), c.getDuration("restart.max"),
        c.getInt("restart.crash-loop-exits"), c.getDuration("restart.crash-loop-window"),
        c.getBoolean("class-data-sharing"));
  }
}
