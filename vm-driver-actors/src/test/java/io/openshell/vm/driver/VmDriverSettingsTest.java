package io.openshell.vm.driver;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.ConfigFactory;
import java.nio.file.Path;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class VmDriverSettingsTest {

  private static VmDriverSettings with(String overrides) {
    var config = ConfigFactory.parseString("vm-driver { " + overrides + " }")
        .withFallback(ConfigFactory.load().getConfig("openshell.gateway"));
    return VmDriverSettings.fromConfig(config, Path.of("/state"), "http://127.0.0.1:1", Path.of("/s/supervisor.jar"),
        Path.of("/usr/lib/jvm/java-17-openjdk-amd64"));
  }

  @Test
  void defaultsAreUpstreams() {
    VmDriverSettings s = with("");
    assertEquals(2, s.vcpus());
    assertEquals(2048, s.memMib());
    assertEquals(Duration.ofSeconds(300), s.provisionTimeout());
    assertEquals(Duration.ofSeconds(5), s.stopGrace());
    assertEquals(Duration.ofMillis(250), s.consolePoll());
    assertEquals(Path.of("/state/vm-driver"), s.stateDir());
    assertEquals("host.openshell.internal", s.hostAlias());
    assertEquals(VmDriverSettings.Backend.AUTO, s.backend());
    assertEquals(VmDriverSettings.Accel.AUTO, s.accel());
    assertTrue(s.guestCommand().isEmpty());
  }

  @Test
  void oneVcpuIsTheSmallestGuest() {
    assertEquals(1, with("vcpus = 1").vcpus());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> with("vcpus = 0"));
    assertTrue(e.getMessage().contains("--vm-vcpus must be at least 1"), e.getMessage());
  }

  @Test
  void twoHundredFiftySixMibIsTheSmallestGuest() {
    assertEquals(256, with("mem-mib = 256").memMib());
    IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> with("mem-mib = 255"));
    assertTrue(e.getMessage().contains("--vm-mem-mib must be at least 256"), e.getMessage());
  }

  @Test
  void theStateDirFlagReplacesTheDefault() {
    assertEquals(Path.of("/elsewhere/vms"), with("state-dir = \"/elsewhere/vms\"").stateDir());
  }
}
