package io.openshell.client.connection;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.client.gateway.LocalGateway;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.api.Test;

class GatewaySelectionTest {

  private static Environment env(Path state, Map<String, String> extra) {
    var vars = new java.util.HashMap<>(extra);
    vars.put("XDG_STATE_HOME", state.toString());
    return new Environment(vars, "/nonexistent-home");
  }

  @Test
  void theFlagWinsOverTheEnvironmentWhichWinsOverTheLocalGateway() throws Exception {
    Path state = Files.createTempDirectory("selection");
    Environment environment = env(state, Map.of("OPENSHELL_GATEWAY_ENDPOINT", "http://env:1"));
    LocalGateway local = new LocalGateway(environment);
    var flag = GatewaySelection.existing("http://flag:2", environment, local).orElseThrow();
    assertEquals(new GatewaySelection.Choice("http://flag:2", GatewaySelection.Source.FLAG), flag);
    var fromEnv = GatewaySelection.existing(null, environment, local).orElseThrow();
    assertEquals(new GatewaySelection.Choice("http://env:1", GatewaySelection.Source.ENVIRONMENT), fromEnv);
  }

  @Test
  void aRecordedLocalGatewayIsUsedOnlyWhileItsProcessLives() throws Exception {
    Path state = Files.createTempDirectory("selection-local");
    Environment environment = env(state, Map.of());
    LocalGateway local = new LocalGateway(environment);
    assertEquals(state.resolve("openshell").resolve("gateway"), local.stateDir());
    assertTrue(GatewaySelection.existing(null, environment, local).isEmpty());

    Files.createDirectories(local.stateDir());
    Files.writeString(local.stateDir().resolve("gateway.endpoint"), "http://127.0.0.1:4242");
    Files.writeString(local.stateDir().resolve("gateway.pid"), Long.toString(ProcessHandle.current().pid()));
    assertEquals(new GatewaySelection.Choice("http://127.0.0.1:4242", GatewaySelection.Source.LOCAL_RUNNING),
        GatewaySelection.existing(null, environment, local).orElseThrow());

    Files.writeString(local.stateDir().resolve("gateway.pid"), "999999999");
    assertTrue(GatewaySelection.existing(null, environment, local).isEmpty(), "a dead pid means no local gateway");
  }
}
