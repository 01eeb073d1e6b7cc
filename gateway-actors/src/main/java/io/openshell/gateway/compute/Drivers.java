package io.openshell.gateway.compute;

import com.typesafe.config.Config;
import io.openshell.gateway.Gateway;
import io.openshell.gateway.GatewaySettings;
import io.openshell.gateway.compute.process.ProcessDriver;
import io.openshell.gateway.compute.process.ProcessDriverSettings;
import io.openshell.vm.driver.VmDriver;
import io.openshell.vm.driver.VmDriverSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import com.typesafe.config.ConfigValueFactory;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;

/** Builds the compute driver named by {@code --drivers}. */
public final class Drivers {
  private Drivers() {}

  /** {@code sandboxCa}: the CA file supervisors verify an https gateway with (empty when plaintext). */
  public static Gateway.DriverFactory fromSettings(Config config, GatewaySettings settings, Optional<Path> sandboxCa) {
    List<String> drivers = settings.drivers();
    if (drivers.size() != 1 || !(drivers.get(0).equals("process") || drivers.get(0).equals("vm"))) {
      throw new IllegalArgumentException("unsupported --drivers " + String.join(",", drivers) + ": choose one of 'process', 'vm'");
    }
    Config gateway = config.getConfig("openshell.gateway");
    if (drivers.get(0).equals("vm")) return vm(withGuestCa(gateway, sandboxCa), settings);
    return (system, endpoint) -> {
      List<String> command = new ArrayList<>();
      command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      command.addAll(gateway.getStringList("process-driver.supervisor-jvm-options"));
      command.add("-jar");
      command.add(supervisorJar(gateway.getString("process-driver.supervisor-jar")).toString());
      ProcessDriver driver = ProcessDriver.create(system,
          ProcessDriverSettings.fromConfig(gateway, settings.stateDir(), endpoint, command).withTlsCa(sandboxCa));
      // Supervisors stop with the gateway (their state stays for the next start).
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceStop(), "stop-sandbox-processes",
          () -> driver.shutdown().thenApply(done -> Done.getInstance()));
      return driver;
    };
  }

  private static Gateway.DriverFactory vm(Config gateway, GatewaySettings settings) {
    Path supervisorJar = supervisorJar(gateway.getString("process-driver.supervisor-jar"));
    return (system, endpoint) -> {
      VmDriver driver = VmDriver.create(system, VmDriverSettings.fromConfig(gateway, settings.stateDir(), endpoint,
          supervisorJar, Path.of(System.getProperty("java.home"))));
      // VMs stop with the gateway (their state stays for the next start).
      CoordinatedShutdown.get(system).addTask(CoordinatedShutdown.PhaseServiceStop(), "stop-sandbox-vms",
          () -> driver.shutdown().thenApply(done -> Done.getInstance()));
      return driver;
    };
  }

  /** The guest trusts the gateway's CA unless the operator configured the VM driver's TLS files themselves. */
  private static Config withGuestCa(Config gateway, Optional<Path> sandboxCa) {
    if (sandboxCa.isEmpty() || !gateway.getString("vm-driver.tls.ca").isEmpty()) return gateway;
    return gateway.withValue("vm-driver.tls.ca", ConfigValueFactory.fromAnyRef(sandboxCa.get().toString()));
  }

  /** The configured jar, or the one built beside this gateway in the same checkout. */
  static Path supervisorJar(String configured) {
    if (!configured.isEmpty()) {
      Path jar = Path.of(configured).toAbsolutePath();
      if (!Files.isRegularFile(jar)) throw new IllegalArgumentException("supervisor jar " + jar + " does not exist");
      return jar;
    }
    try {
      Path here = Path.of(Drivers.class.getProtectionDomain().getCodeSource().getLocation().toURI());
      for (Path dir = here; dir != null; dir = dir.getParent()) {
        Path jar = dir.resolve("supervisor-actors").resolve("target").resolve("openshell-supervisor.jar");
        if (Files.isRegularFile(jar)) return jar;
      }
    } catch (java.net.URISyntaxException e) {
      throw new IllegalStateException(e);
    }
    throw new IllegalArgumentException(
        "cannot find the supervisor jar: build it (mvn package) or set OPENSHELL_SUPERVISOR_JAR / --supervisor-jar");
  }
}
