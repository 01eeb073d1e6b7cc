package io.openshell.it.sim;

import java.util.List;
import java.util.stream.Collectors;

/**
 * One step of a simulated history. Steps name sandboxes, connections, opens and relays by ordinal
 * (taken modulo how many exist when the step runs), so a history stays meaningful when the shrinker
 * removes steps from it. Each step is followed by a settle and an invariant check; {@link Together}
 * runs several actions without settling in between, which is how races are made.
 */
sealed interface Step {

  /** A supervisor dials in and says Hello for sandbox {@code sandbox}. */
  record Connect(int sandbox) implements Step {}

  /** The supervisor's side of a ConnectSupervisor call ends: EOF, or an error. */
  record StreamEnds(int connection, boolean failed) implements Step {}

  /** The gateway→supervisor direction of a connection drops (the supervisor stops reading). */
  record OutboundDrops(int connection) implements Step {}

  /** A late {@code SupervisorDisconnected} for connection {@code connection}'s session id. */
  record LateCleanup(int connection) implements Step {}

  /** {@code count} clients open relays to a sandbox at once (SSH or exec session wait). */
  record Open(int sandbox, int count, boolean ssh) implements Step {}

  /** A client that opened a relay goes away. */
  record Abandon(int open) implements Step {}

  /** What a supervisor does with a RelayOpen it received. */
  enum Answer { RELAY_STREAM, OPEN_FAILED, RELAY_CLOSE }

  record SupervisorAnswers(int connection, int relayOpen, Answer answer) implements Step {}

  /** A RelayStream whose Init names a channel nobody opened. */
  record RelayStreamForUnknownChannel() implements Step {}

  /** A second RelayStream for a channel some supervisor already answered (claimed, expired, or foreign). */
  record RelayStreamForUsedChannel(int relay) implements Step {}

  /** Bytes on a relay stream: supervisor→client, or client→supervisor. */
  record Bytes(int relay, boolean toClient, int size) implements Step {}

  /** Either side of a bridged relay closes its direction. */
  record RelayEnds(int relay, boolean clientSide) implements Step {}

  record Delete(int sandbox) implements Step {}

  /** The compute driver answers a delete it was asked for. */
  record DriverFinishesDelete(int sandbox) implements Step {}

  /** What a driver can report about a sandbox. */
  enum Report { STARTING, RUNNING, ERROR, DELETING }

  record DriverReports(int sandbox, Report report) implements Step {}

  record TimePasses(int seconds) implements Step {}

  /** The gateway node stops (an ActorSystem terminated) and a new one recovers from the journal. */
  record Restart() implements Step {}

  record Together(List<Step> steps) implements Step {
    @Override
    public String toString() {
      return "Together" + steps.stream().map(Object::toString).collect(Collectors.joining(", ", "[", "]"));
    }
  }
}
