package io.openshell.gateway;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.Config;
import org.junit.jupiter.api.Test;
import picocli.CommandLine;

class GatewayFlagsVmTest {

  @Test
  void vmFlagsBecomeVmDriverSettings() {
    GatewayFlags flags = new GatewayFlags();
    new CommandLine(flags).parseArgs("--drivers", "vm", "--vm-vcpus", "1", "--vm-mem-mib", "1024", "--vm-driver-state-dir", "/var/vms");
    Config config = flags.toConfig().getConfig("openshell.gateway");
    assertEquals("vm", config.getString("drivers"));
    assertEquals(1, config.getInt("vm-driver.vcpus"));
    assertEquals(1024, config.getInt("vm-driver.mem-mib"));
    assertEquals("/var/vms", config.getString("vm-driver.state-dir"));
  }

  @Test
  void absentVmFlagsLeaveTheSettingsAlone() {
    GatewayFlags flags = new GatewayFlags();
    new CommandLine(flags).parseArgs("--drivers", "vm");
    assertFalse(flags.toConfig().hasPath("openshell.gateway.vm-driver"));
  }
}
