package io.openshell.client.exec;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.client.connection.CliException;
import java.io.ByteArrayInputStream;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ExecStdinTest {
  @Test
  void stdinUpToTheLimitIsPassedWhole() {
    byte[] exactly = new byte[ExecStdin.MAX_BYTES];
    assertEquals(ExecStdin.MAX_BYTES, ExecStdin.read(new ByteArrayInputStream(exactly), ExecStdin.MAX_BYTES).length);
  }

  @Test
  void oneByteOverTheLimitIsRefusedWithWhatToDo() {
    byte[] over = new byte[ExecStdin.MAX_BYTES + 1];
    CliException refused = assertThrows(CliException.class,
        () -> ExecStdin.read(new ByteArrayInputStream(over), ExecStdin.MAX_BYTES));
    assertEquals(2, refused.exitCode());
    assertTrue(refused.getMessage().startsWith("stdin is larger than 4194304 bytes (4 MiB)"), refused.getMessage());
    assertTrue(refused.getMessage().contains("openshell sandbox upload"), refused.getMessage());
  }

  @Test
  void notReadySaysThePhaseAndWhatToDo() {
    assertEquals("sandbox 'box' is not ready (phase: Provisioning); wait for it to reach Ready state",
        ExecCommand.notReady("box", io.openshell.protocol.v1.SandboxPhase.SANDBOX_PHASE_PROVISIONING));
  }

  @Test
  void environmentPairsKeepTheirValuesVerbatim() {
    assertEquals(Map.of("A", "x=y", "B", ""), ExecCommand.environmentVariables(List.of("A=x=y", "B=")));
    assertThrows(CliException.class, () -> ExecCommand.environmentVariables(List.of("=v")));
    assertThrows(CliException.class, () -> ExecCommand.environmentVariables(List.of("NOVALUE")));
  }
}
