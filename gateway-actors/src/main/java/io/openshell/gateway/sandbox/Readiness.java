package io.openshell.gateway.sandbox;

import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Gateway-owned readiness as pure functions. A driver never makes a sandbox READY by itself in this
 * project: READY means "the supervisor inside has an open session with this gateway". Both facts
 * (driver observation and live session) reach the one Sandbox actor, so the outcome does not depend on
 * the order they arrive in.
 */
public final class Readiness {
  private Readiness() {}

  static final String CONNECTED_REASON = "DependenciesReady";
  static final String CONNECTED_MESSAGE = "Supervisor session connected";
  static final String DISCONNECTED_REASON = "DependenciesNotReady";
  static final String DISCONNECTED_MESSAGE = "Supervisor session disconnected";

  private static final Set<String> STILL_STARTING_REASONS = Set.of("reconcilererror", "dependenciesnotready", "starting");

  /** The phase a driver observation implies on its own (upstream's derive table). */
  public static Phase fromDriver(DriverObservation observation) {
    if (observation == null) return Phase.UNKNOWN;
    if (observation.deleting()) return Phase.DELETING;
    for (Condition condition : observation.conditions()) {
      if (!condition.is(Condition.READY)) continue;
      if (condition.status().equalsIgnoreCase("True")) return Phase.READY;
      if (condition.status().equalsIgnoreCase("False")) {
        String reason = condition.reason() == null ? "" : condition.reason().toLowerCase(Locale.ROOT);
        return STILL_STARTING_REASONS.contains(reason) ? Phase.PROVISIONING : Phase.ERROR;
      }
    }
    return Phase.PROVISIONING;
  }

  /** Phase and conditions as users see them. */
  public record Derived(Phase phase, List<Condition> conditions) {}

  /**
   * @param observation the driver's last report, or null when it has not reported yet
   * @param deleting the gateway accepted a delete
   * @param sessionLive a supervisor session is registered right now
   * @param everConnected a supervisor session was registered at some point (its loss is then the reason)
   * @param sessionChangedAtMs when the session last connected or disconnected
   */
  public static Derived derive(
      DriverObservation observation, boolean deleting, boolean sessionLive, boolean everConnected, long sessionChangedAtMs) {
    List<Condition> driverConditions = observation == null ? List.of() : observation.conditions();
    if (deleting) return new Derived(Phase.DELETING, driverConditions);
    // Before the driver's first report a created sandbox is provisioning, not unknown.
    Phase driverPhase = observation == null ? Phase.PROVISIONING : fromDriver(observation);
    if (driverPhase == Phase.DELETING || driverPhase == Phase.ERROR) {
      return new Derived(driverPhase, driverConditions);
    }
    String at = Instant.ofEpochMilli(sessionChangedAtMs).toString();
    if (sessionLive) {
      return new Derived(Phase.READY, withReady(driverConditions,
          new Condition(Condition.READY, "True", CONNECTED_REASON, CONNECTED_MESSAGE, at)));
    }
    if (everConnected && (driverPhase == Phase.PROVISIONING || driverPhase == Phase.UNKNOWN)) {
      return new Derived(Phase.PROVISIONING, withReady(driverConditions,
          new Condition(Condition.READY, "False", DISCONNECTED_REASON, DISCONNECTED_MESSAGE, at)));
    }
    return new Derived(driverPhase, driverConditions);
  }

  private static List<Condition> withReady(List<Condition> conditions, Condition ready) {
    List<Condition> result = new ArrayList<>(conditions.size() + 1);
    result.add(ready);
    for (Condition condition : conditions) {
      if (!condition.is(Condition.READY)) result.add(condition);
    }
    return List.copyOf(result);
  }
}
