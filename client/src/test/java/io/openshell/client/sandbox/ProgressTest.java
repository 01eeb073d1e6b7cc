package io.openshell.client.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;

import io.openshell.protocol.v1.Sandbox;
import io.openshell.protocol.v1.SandboxCondition;
import io.openshell.protocol.v1.SandboxPhase;
import io.openshell.protocol.v1.SandboxStatus;
import org.junit.jupiter.api.Test;

class ProgressTest {

  private static Sandbox sandbox(SandboxPhase phase, String status, String reason, String message) {
    return Sandbox.newBuilder().setPhase(phase).setStatus(SandboxStatus.newBuilder().addConditions(
        SandboxCondition.newBuilder().setType("Ready").setStatus(status).setReason(reason).setMessage(message))).build();
  }

  @Test
  void linesCarryElapsedSecondsAndThePhase() {
    assertEquals("[0.4s] Provisioning…", Progress.line(400, sandbox(SandboxPhase.SANDBOX_PHASE_PROVISIONING, "False", "Starting", "x")));
    assertEquals("[1.2s] Ready", Progress.line(1234, sandbox(SandboxPhase.SANDBOX_PHASE_READY, "True", "DependenciesReady", "ok")));
  }

  @Test
  void notReadyReasonsOtherThanStartingAreShown() {
    assertEquals("[2.0s] Provisioning… (DependenciesNotReady: Supervisor session disconnected)",
        Progress.line(2000, sandbox(SandboxPhase.SANDBOX_PHASE_PROVISIONING, "False", "DependenciesNotReady", "Supervisor session disconnected")));
    assertEquals("[3.0s] Error (ProcessExited: supervisor process exited with status 3)",
        Progress.line(3000, sandbox(SandboxPhase.SANDBOX_PHASE_ERROR, "False", "ProcessExited", "supervisor process exited with status 3")));
  }

  @Test
  void phaseNamesDropThePrefix() {
    assertEquals("READY", Progress.phaseName(SandboxPhase.SANDBOX_PHASE_READY));
  }
}
