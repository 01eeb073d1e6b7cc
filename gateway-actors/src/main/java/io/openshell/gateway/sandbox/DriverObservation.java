package io.openshell.gateway.sandbox;

import io.openshell.gateway.CborSerializable;
import java.util.List;

/** What the compute driver last reported for a sandbox (DriverSandboxStatus, minus wire types). */
public record DriverObservation(String instanceId, List<Condition> conditions, boolean deleting)
    implements CborSerializable {

  public DriverObservation {
    conditions = List.copyOf(conditions);
  }
}
