package io.openshell.gateway.sandbox;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class ReadinessTest {

  private static DriverObservation ready(String status, String reason) {
    return new DriverObservation("i-1", List.of(new Condition("Ready", status, reason, "m", "")), false);
  }

  static Stream<Arguments> driverTable() {
    return Stream.of(
        Arguments.of(null, Phase.UNKNOWN),
        Arguments.of(new DriverObservation("i", List.of(), true), Phase.DELETING),
        Arguments.of(ready("True", "Whatever"), Phase.READY),
        Arguments.of(ready("False", "ReconcilerError"), Phase.PROVISIONING),
        Arguments.of(ready("False", "DependenciesNotReady"), Phase.PROVISIONING),
        Arguments.of(ready("False", "Starting"), Phase.PROVISIONING),
        Arguments.of(ready("False", "sTaRtInG"), Phase.PROVISIONING),
        Arguments.of(ready("False", "ProcessExited"), Phase.ERROR),
        Arguments.of(ready("Unknown", "Starting"), Phase.PROVISIONING),
        Arguments.of(new DriverObservation("i", List.of(new Condition("Isolated", "False", "x", "y", "")), false), Phase.PROVISIONING));
  }

  @ParameterizedTest
  @MethodSource("driverTable")
  void driverObservationMapsToUpstreamPhases(DriverObservation observation, Phase expected) {
    assertEquals(expected, Readiness.fromDriver(observation));
  }

  static Stream<Arguments> combinedTable() {
    DriverObservation starting = ready("False", "Starting");
    DriverObservation exited = ready("False", "ProcessExited");
    DriverObservation deleting = new DriverObservation("i", List.of(), true);
    return Stream.of(
        // observation, gatewayDeleting, live, everConnected, phase, Ready reason
        Arguments.of(null, false, false, false, Phase.PROVISIONING, null),
        Arguments.of(null, false, true, true, Phase.READY, "DependenciesReady"),
        Arguments.of(starting, false, false, false, Phase.PROVISIONING, "Starting"),
        Arguments.of(starting, false, true, true, Phase.READY, "DependenciesReady"),
        Arguments.of(starting, false, false, true, Phase.PROVISIONING, "DependenciesNotReady"),
        Arguments.of(exited, false, true, true, Phase.ERROR, "ProcessExited"),
        Arguments.of(exited, false, false, true, Phase.ERROR, "ProcessExited"),
        Arguments.of(deleting, false, true, true, Phase.DELETING, null),
        Arguments.of(starting, true, true, true, Phase.DELETING, "Starting"));
  }

  @ParameterizedTest
  @MethodSource("combinedTable")
  void gatewayOwnsReadinessAndNeverTurnsADisconnectIntoError(DriverObservation observation, boolean deleting,
      boolean live, boolean everConnected, Phase phase, String readyReason) {
    Readiness.Derived derived = Readiness.derive(observation, deleting, live, everConnected, 0);
    assertEquals(phase, derived.phase());
    String reason = derived.conditions().stream().filter(c -> c.is("Ready")).map(Condition::reason).findFirst().orElse(null);
    assertEquals(readyReason, reason);
  }

  @Test
  void connectedAndDisconnectedConditionsCarryTheUpstreamWording() {
    DriverObservation starting = ready("False", "Starting");
    Condition connected = Readiness.derive(starting, false, true, true, 0).conditions().get(0);
    assertEquals(new Condition("Ready", "True", "DependenciesReady", "Supervisor session connected", connected.lastTransitionTime()), connected);
    Condition disconnected = Readiness.derive(starting, false, false, true, 0).conditions().get(0);
    assertEquals(new Condition("Ready", "False", "DependenciesNotReady", "Supervisor session disconnected", disconnected.lastTransitionTime()), disconnected);
  }
}
