package io.openshell.gateway.sandbox;

import io.openshell.gateway.CborSerializable;

/** One status condition, as a driver reports it or as the gateway sets it (type "Ready"). */
public record Condition(String type, String status, String reason, String message, String lastTransitionTime)
    implements CborSerializable {

  public static final String READY = "Ready";

  public boolean is(String conditionType) {
    return type.equals(conditionType);
  }
}
