package io.openshell.gateway.sandbox;

import com.google.protobuf.InvalidProtocolBufferException;
import io.openshell.protocol.compute.v1.DriverCondition;
import io.openshell.protocol.compute.v1.DriverSandbox;
import io.openshell.protocol.compute.v1.DriverSandboxSpec;
import io.openshell.protocol.compute.v1.DriverSandboxStatus;
import io.openshell.protocol.compute.v1.DriverSandboxTemplate;
import io.openshell.protocol.v1.SandboxSpec;
import java.util.List;

/** Between the public sandbox spec and the compute driver contract. */
public final class DriverMapping {
  private DriverMapping() {}

  public static SandboxSpec spec(byte[] bytes) {
    try {
      return bytes == null ? SandboxSpec.getDefaultInstance() : SandboxSpec.parseFrom(bytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored sandbox spec is unreadable", e);
    }
  }

  static DriverSandbox toDriver(Sandbox.State state) {
    SandboxSpec spec = spec(state.spec());
    DriverSandboxTemplate.Builder template = DriverSandboxTemplate.newBuilder()
        .setImage(spec.getTemplate().getImage())
        .setAgentSocketPath(spec.getTemplate().getAgentSocket())
        .putAllLabels(spec.getTemplate().getLabelsMap())
        .putAllEnvironment(spec.getTemplate().getEnvironmentMap());
    return DriverSandbox.newBuilder()
        .setId(state.id())
        .setName(state.name())
        .setSpec(DriverSandboxSpec.newBuilder()
            .setLogLevel(spec.getLogLevel())
            .putAllEnvironment(spec.getEnvironmentMap())
            .setTemplate(template)
            .setGpu(spec.getGpu())
            .setSupervisorCredential(state.supervisorCredential() == null ? "" : state.supervisorCredential()))
        .build();
  }

  public static DriverObservation observation(DriverSandboxStatus status) {
    List<Condition> conditions = status.getConditionsList().stream().map(DriverMapping::condition).toList();
    return new DriverObservation(status.getInstanceId(), conditions, status.getDeleting());
  }

  private static Condition condition(DriverCondition c) {
    return new Condition(c.getType(), c.getStatus(), c.getReason(), c.getMessage(), c.getLastTransitionTime());
  }
}
