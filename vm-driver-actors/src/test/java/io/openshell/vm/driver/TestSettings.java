package io.openshell.vm.driver;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;

/** Driver settings from the module's reference.conf, with a test's state dir and short timers. */
final class TestSettings {
  private TestSettings() {}

  static VmDriverSettings of(Path stateDir, String endpoint, Duration provisionTimeout) {
    var config = ConfigFactory.parseString("vm-driver { stop-grace = 2s, console-poll = 100ms }")
        .withFallback(ConfigFactory.load().getConfig("openshell.gateway"));
    return VmDriverSettings.fromConfig(config, stateDir, endpoint, stateDir.resolve("supervisor").resolve("openshell-supervisor.jar"),
        Path.of("/usr/lib/jvm/java-17-openjdk-amd64")).withProvisionTimeout(provisionTimeout);
  }
}
