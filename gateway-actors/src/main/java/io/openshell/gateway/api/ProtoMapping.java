package io.openshell.gateway.api;

import io.openshell.gateway.sandbox.Condition;
import io.openshell.gateway.sandbox.DriverMapping;
import io.openshell.gateway.sandbox.Phase;
import io.openshell.gateway.sandbox.SandboxView;
import io.openshell.protocol.v1.Sandbox;
import io.openshell.protocol.v1.SandboxCondition;
import io.openshell.protocol.v1.SandboxPhase;
import io.openshell.protocol.v1.SandboxStatus;

/** Sandbox views to wire messages. */
final class ProtoMapping {
  private ProtoMapping() {}

  static Sandbox toProto(SandboxView view) {
    SandboxStatus.Builder status = SandboxStatus.newBuilder()
        .setSandboxName(view.name())
        .setAgentPod(view.instanceId());
    for (Condition c : view.conditions()) {
      status.addConditions(SandboxCondition.newBuilder()
          .setType(c.type()).setStatus(c.status()).setReason(nullToEmpty(c.reason()))
          .setMessage(nullToEmpty(c.message())).setLastTransitionTime(nullToEmpty(c.lastTransitionTime())));
    }
    return Sandbox.newBuilder()
        .setId(view.id())
        .setName(view.name())
        .setSpec(DriverMapping.spec(view.spec()))
        .setStatus(status)
        .setPhase(phase(view.phase()))
        .setCreatedAtMs(view.createdAtMs())
        .build();
  }

  static SandboxPhase phase(Phase phase) {
    return switch (phase) {
      case PROVISIONING -> SandboxPhase.SANDBOX_PHASE_PROVISIONING;
      case READY -> SandboxPhase.SANDBOX_PHASE_READY;
      case ERROR -> SandboxPhase.SANDBOX_PHASE_ERROR;
      case DELETING -> SandboxPhase.SANDBOX_PHASE_DELETING;
      case UNKNOWN -> SandboxPhase.SANDBOX_PHASE_UNKNOWN;
    };
  }

  private static String nullToEmpty(String value) {
    return value == null ? "" : value;
  }
}
