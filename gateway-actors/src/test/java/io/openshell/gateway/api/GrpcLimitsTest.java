package io.openshell.gateway.api;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.ConfigFactory;
import org.junit.jupiter.api.Test;

class GrpcLimitsTest {
  private final GrpcLimits defaults = GrpcLimits.fromConfig(ConfigFactory.load().getConfig("openshell.gateway"));

  @Test
  void everyMethodDefaultsToUpstreamsOneMebibyteDecodeLimit() {
    assertEquals(1024 * 1024, defaults.maxMessageBytes());
    assertEquals(1024 * 1024, defaults.forPath("/openshell.v1.OpenShell/CreateSandbox"));
    assertEquals(1024 * 1024, defaults.forPath("/openshell.v1.OpenShell/RelayStream"));
  }

  @Test
  void execSandboxRequestsMayCarryFourMebibytesOfStdinAndTheCommand() {
    assertEquals(5 * 1024 * 1024, defaults.forPath("/openshell.v1.OpenShell/ExecSandbox"));
  }

  @Test
  void aLimitBelowOneByteIsRefusedAtStart() {
    assertThrows(IllegalArgumentException.class, () -> new GrpcLimits(0, 1));
    assertThrows(IllegalArgumentException.class, () -> new GrpcLimits(1, 0));
  }
}
