package io.openshell.it.sim;

import com.typesafe.config.Config;
import io.grpc.Status;
import io.openshell.gateway.relay.RelayConnection;
import io.openshell.gateway.relay.Relays;
import io.openshell.gateway.sandbox.Condition;
import io.openshell.gateway.sandbox.DriverObservation;
import io.openshell.gateway.sandbox.Phase;
import io.openshell.gateway.sandbox.Readiness;
import io.openshell.gateway.sandbox.Sandbox;
import io.openshell.gateway.sandbox.SandboxProblem;
import io.openshell.gateway.sandbox.SandboxView;
import io.openshell.gateway.session.SupervisorSession;
import io.openshell.protocol.v1.GatewayMessage;
import io.openshell.protocol.v1.RelayClose;
import io.openshell.protocol.v1.RelayFrame;
import io.openshell.protocol.v1.RelayInit;
import io.openshell.protocol.v1.RelayOpenResult;
import io.openshell.protocol.v1.SupervisorHello;
import io.openshell.protocol.v1.SupervisorMessage;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Random;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.Terminated;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.QueueOfferResult;
import org.apache.pekko.stream.UniqueKillSwitch;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.util.ByteString;
import org.apache.pekko.util.ByteStringBuilder;

/**
 * Runs one history against a simulated gateway node and checks the invariants after every step.
 * The harness plays every supervisor (their ConnectSupervisor and RelayStream calls, fed to the real
 * SupervisorSession actors and the real RelayStreamHandler) and every client (the real
 * {@link Relays#open}); it keeps a model of what each of them has seen, and compares that and the
 * gateway's answers with the rules.
 */
final class World {
  /** Fields written by stream callbacks on the simulation thread are read here only after a settle. */
  private final Histories.History history;
  private final Optional<Path> journalFile;
  private final Config overrides;
  private final ErrorLog errors;
  private SimulatedGateway gateway;
  private static final boolean TRACE = Boolean.getBoolean("sim.trace");
  private final boolean ownsGateway;
  private ActorRef<SupervisorSession.Ack> acks;
  private final Random bytes;
  private long acceptStamp;
  private int incarnation;

  private final List<SimSandbox> sandboxes = new ArrayList<>();
  private final List<Connection> connections = new ArrayList<>();
  private final List<OpenCall> opens = new ArrayList<>();
  private final List<RelayCall> relayCalls = new ArrayList<>();

  private World(Histories.History history, SimulatedGateway shared, Optional<Path> journalFile, Config overrides, ErrorLog errors) {
    this.history = history;
    this.gateway = shared;
    this.ownsGateway = shared == null;
    this.journalFile = journalFile;
    this.overrides = overrides;
    this.errors = errors;
    this.bytes = new Random(history.seed() * 31 + 7);
  }

  /** What went wrong, at which step (-1: the end-of-history checks); empty when the history passed. */
  record Verdict(List<String> violations, int step) {
    boolean passed() {
      return violations.isEmpty();
    }
  }

  /**
   * Runs {@code history}: on {@code shared} when it does not restart (fresh sandbox ids keep histories
   * apart), else on its own node(s) over a SQLite file in {@code scratch}.
   */
  static Verdict run(Histories.History history, SimulatedGateway shared, Path scratch, Config overrides, ErrorLog errors)
      throws Exception {
    Optional<Path> file = history.restarts()
        ? Optional.of(scratch.resolve("sim-" + history.seed() + "-" + System.nanoTime() + ".db"))
        : Optional.empty();
    World world = new World(history, history.restarts() ? null : shared, file, overrides, errors);
    try {
      return world.run();
    } finally {
      if (world.ownsGateway && world.gateway != null) world.gateway.close();
      if (file.isPresent()) {
        for (String suffix : new String[] {"", "-wal", "-shm"}) java.nio.file.Files.deleteIfExists(Path.of(file.get() + suffix));
      }
    }
  }

  private Verdict run() throws Exception {
    try {
      return runSteps();
    } catch (SimulatedGateway.Unanswered unanswered) {
      return new Verdict(List.of(unanswered.getMessage()), stepRunning);
    }
  }

  private int stepRunning = -1;

  private Verdict runSteps() throws Exception {
    if (ownsGateway) gateway = SimulatedGateway.start("sim", journalFile, overrides);
    acks = ackSink();
    errors.clear();
    for (int i = 0; i < history.sandboxes(); i++) createSandbox(i);
    List<String> violations = check();
    if (!violations.isEmpty()) return new Verdict(violations, 0);
    for (int i = 0; i < history.steps().size(); i++) {
      Step step = history.steps().get(i);
      stepRunning = i;
      if (step instanceof Step.Together together) {
        for (Step part : together.steps()) act(part);
      } else {
        act(step);
      }
      gateway.settle();
      if (TRACE) System.out.println("trace settled after step " + i + ": " + step);
      violations = check();
      if (!violations.isEmpty()) return new Verdict(violations, i);
    }
    stepRunning = -1;
    drain();
    violations = check();
    violations.addAll(checkDrained());
    return new Verdict(violations, -1);
  }

  // --- the world's inhabitants ----------------------------------------------------------------

  private static final class SimSandbox {
    final String id;
    final String name;
    DriverObservation driver;
    boolean deleteRequested;
    boolean removed;

    SimSandbox(String id, String name) {
      this.id = id;
      this.name = name;
    }
  }

  private static final class Connection {
    final int ordinal;
    final SimSandbox sandbox;
    final int incarnation;
    ActorRef<SupervisorSession.Command> session;
    UniqueKillSwitch outboundSwitch;
    final List<String> relayOpens = new ArrayList<>();
    String sessionId;
    long acceptedStamp = -1;
    boolean outboundEnded;
    boolean inboundEnded;
    boolean sessionStopped;

    Connection(int ordinal, SimSandbox sandbox, int incarnation) {
      this.ordinal = ordinal;
      this.sandbox = sandbox;
      this.incarnation = incarnation;
    }
  }

  private static final class OpenCall {
    final int ordinal;
    final SimSandbox sandbox;
    final Duration wait;
    final Duration openedAt;
    final int incarnation;
    Relays.Opening opening;
    boolean abandoned;
    int outcomes;
    RelayConnection connection;
    Throwable failure;
    // The client's side of a bridged relay.
    BoundedSourceQueue<ByteString> toSupervisor;
    final ByteStringBuilder sent = new ByteStringBuilder();
    final ByteStringBuilder received = new ByteStringBuilder();
    boolean receivedEnded;
    Throwable receivedFailure;
    boolean closed;

    OpenCall(int ordinal, SimSandbox sandbox, Duration wait, Duration openedAt, int incarnation) {
      this.ordinal = ordinal;
      this.sandbox = sandbox;
      this.wait = wait;
      this.openedAt = openedAt;
      this.incarnation = incarnation;
    }
  }

  private static final class RelayCall {
    final int ordinal;
    final String channelId;
    final int incarnation;
    final boolean expectedToClaim;
    BoundedSourceQueue<RelayFrame> frames;
    final ByteStringBuilder sent = new ByteStringBuilder();
    final ByteStringBuilder received = new ByteStringBuilder();
    boolean ended;
    Throwable failure;
    boolean closed;

    RelayCall(int ordinal, String channelId, int incarnation, boolean expectedToClaim) {
      this.ordinal = ordinal;
      this.channelId = channelId;
      this.incarnation = incarnation;
      this.expectedToClaim = expectedToClaim;
    }
  }

  // --- acting ---------------------------------------------------------------------------------

  private void createSandbox(int index) throws Exception {
    String id = "sim-" + history.seed() + "-" + index + "-" + Long.toHexString(System.nanoTime());
    SimSandbox sandbox = new SimSandbox(id, "sandbox-" + index);
    sandboxes.add(sandbox);
    gateway.track(id);
    StatusReply<SandboxView> created = gateway.ask(id, replyTo -> new Sandbox.Create(sandbox.name, new byte[0], replyTo));
    if (!created.isSuccess()) throw new IllegalStateException("create failed: " + created);
  }

  private ActorRef<SupervisorSession.Ack> ackSink() {
    return gateway.system.systemActorOf(Behaviors.ignore(), "acks-" + System.nanoTime(), Props.empty());
  }

  private void act(Step step) throws Exception {
    if (step instanceof Step.Connect c) {
      connect(sandboxes.get(c.sandbox() % sandboxes.size()));
    } else if (step instanceof Step.StreamEnds s) {
      pick(connections, s.connection()).filter(c -> current(c.incarnation) && !c.inboundEnded).ifPresent(c -> {
        c.inboundEnded = true;
        c.session.tell(s.failed() ? new SupervisorSession.StreamFailed(new RuntimeException("connection reset by peer"))
            : SupervisorSession.StreamCompleted.INSTANCE);
      });
    } else if (step instanceof Step.OutboundDrops d) {
      pick(connections, d.connection()).filter(c -> current(c.incarnation)).ifPresent(c -> c.outboundSwitch.shutdown());
    } else if (step instanceof Step.LateCleanup l) {
      // Only an ended session's cleanup can be late; a live session reports its own end.
      pick(connections, l.connection()).filter(c -> current(c.incarnation) && c.sessionId != null && c.sessionStopped)
          .ifPresent(c -> gateway.tell(c.sandbox.id, new Sandbox.SupervisorDisconnected(c.sessionId)));
    } else if (step instanceof Step.Open o) {
      SimSandbox sandbox = sandboxes.get(o.sandbox() % sandboxes.size());
      Duration wait = o.ssh() ? gateway.relaySettings.sshSessionWait() : gateway.relaySettings.execSessionWait();
      for (int i = 0; i < o.count(); i++) open(sandbox, wait);
    } else if (step instanceof Step.Abandon a) {
      pick(opens, a.open()).filter(o -> current(o.incarnation) && !o.abandoned && o.outcomes == 0).ifPresent(o -> {
        o.abandoned = true;
        o.opening.abandon().run();
      });
    } else if (step instanceof Step.SupervisorAnswers s) {
      pick(connections, s.connection()).filter(c -> current(c.incarnation) && !c.relayOpens.isEmpty())
          .ifPresent(c -> answer(c, c.relayOpens.get(Math.floorMod(s.relayOpen(), c.relayOpens.size())), s.answer()));
    } else if (step instanceof Step.RelayStreamForUnknownChannel) {
      relayStream("never-opened-" + relayCalls.size(), false);
    } else if (step instanceof Step.RelayStreamForUsedChannel r) {
      pick(relayCalls, r.relay()).filter(rc -> current(rc.incarnation)).ifPresent(rc -> relayStream(rc.channelId, false));
    } else if (step instanceof Step.Bytes b) {
      bridged(b.relay()).ifPresent(pair -> sendBytes(pair, b.toClient(), b.size()));
    } else if (step instanceof Step.RelayEnds e) {
      bridged(e.relay()).ifPresent(pair -> {
        if (e.clientSide()) {
          if (!pair.open.closed) completeQuietly(pair.open.toSupervisor);
          pair.open.closed = true;
        } else {
          if (!pair.relay.closed) completeQuietly(pair.relay.frames);
          pair.relay.closed = true;
        }
      });
    } else if (step instanceof Step.Delete d) {
      SimSandbox sandbox = sandboxes.get(d.sandbox() % sandboxes.size());
      if (!sandbox.removed) sandbox.deleteRequested = true;
      gateway.tell(sandbox.id, new Sandbox.Delete(gateway.system.ignoreRef()));
    } else if (step instanceof Step.DriverFinishesDelete d) {
      SimSandbox sandbox = sandboxes.get(d.sandbox() % sandboxes.size());
      if (gateway.driver.finishDelete(sandbox.id)) sandbox.removed = true;
    } else if (step instanceof Step.DriverReports r) {
      SimSandbox sandbox = sandboxes.get(r.sandbox() % sandboxes.size());
      DriverObservation observation = observation(r.report());
      if (!sandbox.removed) sandbox.driver = observation;
      gateway.tell(sandbox.id, new Sandbox.DriverObserved(observation, gateway.system.ignoreRef()));
    } else if (step instanceof Step.TimePasses t) {
      gateway.advance(Duration.ofSeconds(t.seconds()));
    } else if (step instanceof Step.Restart) {
      restart();
    } else if (step instanceof Step.Together t) {
      for (Step part : t.steps()) act(part);
    }
  }

  /** Ends one direction of a relay; the stream may already have ended (failed or cancelled) by itself. */
  private static void completeQuietly(BoundedSourceQueue<?> queue) {
    try {
      queue.complete();
    } catch (IllegalStateException alreadyEnded) {
      // nothing left to end
    }
  }

  private boolean current(int incarnationOf) {
    return incarnationOf == incarnation;
  }

  private static <T> Optional<T> pick(List<T> items, int ordinal) {
    return items.isEmpty() ? Optional.empty() : Optional.of(items.get(Math.floorMod(ordinal, items.size())));
  }

  private static DriverObservation observation(Step.Report report) {
    String at = "2026-01-01T00:00:00Z";
    switch (report) {
      case STARTING:
        return new DriverObservation("instance-1", List.of(new Condition(Condition.READY, "False", "Starting", "starting", at)), false);
      case ERROR:
        return new DriverObservation("instance-1", List.of(new Condition(Condition.READY, "False", "CrashLoop", "exited 5 times", at)), false);
      case DELETING:
        return new DriverObservation("instance-1", List.of(), true);
      default:
        return new DriverObservation("instance-1", List.of(), false);
    }
  }

  private void connect(SimSandbox sandbox) {
    Connection connection = new Connection(connections.size(), sandbox, incarnation);
    connections.add(connection);
    var outbound = Source.<GatewayMessage>queue(gateway.sessionSettings.outboundQueueSize())
        .viaMat(KillSwitches.single(), Keep.both())
        .toMat(Sink.foreach(message -> onGatewayMessage(connection, message)), Keep.both())
        .run(gateway.system);
    connection.outboundSwitch = outbound.first().second();
    outbound.second().whenComplete((done, failure) -> connection.outboundEnded = true);
    connection.session = gateway.system.systemActorOf(
        SupervisorSession.create(gateway.sessionSettings, outbound.first().first(), gateway.directory, gateway.relaySettings),
        "supervisor-session-" + sandbox.id + "-" + connection.ordinal + "-" + incarnation, Props.empty());
    ActorRef<SupervisorSession.Command> session = connection.session;
    gateway.system.systemActorOf(Behaviors.setup(context -> {
      context.watch(session);
      return Behaviors.receiveSignal((ctx, signal) -> {
        if (signal instanceof Terminated) {
          connection.sessionStopped = true;
          return Behaviors.stopped();
        }
        return Behaviors.same();
      });
    }), "watch-" + sandbox.id + "-" + connection.ordinal + "-" + incarnation, Props.empty());
    session.tell(new SupervisorSession.StreamInit(acks));
    session.tell(new SupervisorSession.Inbound(SupervisorMessage.newBuilder()
        .setHello(SupervisorHello.newBuilder().setSandboxId(sandbox.id)).build(), acks));
  }

  private void onGatewayMessage(Connection connection, GatewayMessage message) {
    if (TRACE) System.out.println("trace " + Thread.currentThread().getName() + " connection #" + connection.ordinal + " got " + message.getPayloadCase());
    switch (message.getPayloadCase()) {
      case SESSION_ACCEPTED -> {
        connection.sessionId = message.getSessionAccepted().getSessionId();
        connection.acceptedStamp = ++acceptStamp;
      }
      case RELAY_OPEN -> connection.relayOpens.add(message.getRelayOpen().getChannelId());
      default -> { }
    }
  }

  private void open(SimSandbox sandbox, Duration wait) {
    OpenCall open = new OpenCall(opens.size(), sandbox, wait, gateway.now(), incarnation);
    opens.add(open);
    open.opening = gateway.relays.open(sandbox.id, wait);
    open.opening.connection().whenComplete((connection, failure) -> {
      open.outcomes++;
      if (failure != null) {
        open.failure = failure instanceof CompletionException && failure.getCause() != null ? failure.getCause() : failure;
        return;
      }
      open.connection = connection;
      // The client's ends of the relay, as the tunnel or exec would run them.
      connection.fromSupervisor().getSource().runWith(Sink.foreach(open.received::append), gateway.system)
          .whenComplete((done, streamFailure) -> {
            open.receivedEnded = true;
            open.receivedFailure = streamFailure;
          });
      open.toSupervisor = Source.<ByteString>queue(64).to(connection.sink()).run(gateway.system);
    });
  }

  private void answer(Connection connection, String channelId, Step.Answer answer) {
    switch (answer) {
      case RELAY_STREAM -> relayStream(channelId, true);
      case OPEN_FAILED -> connection.session.tell(new SupervisorSession.Inbound(SupervisorMessage.newBuilder()
          .setRelayOpenResult(RelayOpenResult.newBuilder().setChannelId(channelId).setSuccess(false)
              .setError("connect: no such file or directory")).build(), acks));
      case RELAY_CLOSE -> connection.session.tell(new SupervisorSession.Inbound(SupervisorMessage.newBuilder()
          .setRelayClose(RelayClose.newBuilder().setChannelId(channelId).setReason("ssh socket closed")).build(), acks));
    }
  }

  private void relayStream(String channelId, boolean firstAnswer) {
    boolean firstForChannel = firstAnswer && relayCalls.stream().noneMatch(r -> r.channelId.equals(channelId));
    RelayCall call = new RelayCall(relayCalls.size(), channelId, incarnation, firstForChannel);
    relayCalls.add(call);
    var frames = Source.<RelayFrame>queue(64).preMaterialize(gateway.system);
    call.frames = frames.first();
    call.frames.offer(RelayFrame.newBuilder().setInit(RelayInit.newBuilder().setChannelId(channelId)).build());
    gateway.relayStreams.serve(frames.second(), java.util.Optional.empty())
        .runWith(Sink.foreach(frame -> call.received.append(ByteString.fromArrayUnsafe(frame.getData().toByteArray()))), gateway.system)
        .whenComplete((done, failure) -> {
          call.ended = true;
          call.failure = failure;
        });
  }

  /** A relay both of whose ends the harness holds: the client's open and the supervisor's stream. */
  private record Bridge(OpenCall open, RelayCall relay) {}

  private List<Bridge> bridges() {
    List<Bridge> bridges = new ArrayList<>();
    for (OpenCall open : opens) {
      if (open.connection == null || !current(open.incarnation)) continue;
      for (RelayCall relay : relayCalls) {
        if (relay.expectedToClaim && relay.channelId.equals(open.connection.channelId()) && current(relay.incarnation)) {
          bridges.add(new Bridge(open, relay));
        }
      }
    }
    return bridges;
  }

  private Optional<Bridge> bridged(int ordinal) {
    return pick(bridges(), ordinal);
  }

  private void sendBytes(Bridge bridge, boolean toClient, int size) {
    byte[] noise = new byte[size];
    bytes.nextBytes(noise);
    ByteString payload = ByteString.fromString("[" + bridge.relay.channelId + (toClient ? " >client " : " >supervisor ")
        + bridge.relay.sent.length() + "]", StandardCharsets.US_ASCII).concat(ByteString.fromArrayUnsafe(noise));
    if (toClient) {
      if (bridge.relay.closed) return;
      if (bridge.relay.frames.offer(RelayFrame.newBuilder()
          .setData(com.google.protobuf.ByteString.copyFrom(payload.toArrayUnsafe())).build()) == QueueOfferResult.enqueued()) {
        bridge.relay.sent.append(payload);
      }
    } else {
      if (bridge.open.closed || bridge.open.toSupervisor == null) return;
      if (bridge.open.toSupervisor.offer(payload) == QueueOfferResult.enqueued()) bridge.open.sent.append(payload);
    }
  }

  private void restart() throws Exception {
    Map<String, StatusReply<SandboxView>> before = views();
    Map<String, Boolean> readyBySession = new java.util.HashMap<>();
    for (SimSandbox sandbox : sandboxes) readyBySession.put(sandbox.id, liveSession(sandbox).isPresent());
    gateway.close();
    incarnation++;
    gateway = SimulatedGateway.start("sim", journalFile, overrides);
    for (SimSandbox sandbox : sandboxes) gateway.track(sandbox.id);
    acks = ackSink();
    Map<String, StatusReply<SandboxView>> after = views();
    for (SimSandbox sandbox : sandboxes) {
      String problem = recoveredAsBefore(before.get(sandbox.id), after.get(sandbox.id), readyBySession.get(sandbox.id));
      if (problem != null) restartViolations.add("after the restart sandbox " + sandbox.name + " " + problem);
    }
  }

  private final List<String> restartViolations = new ArrayList<>();

  private Map<String, StatusReply<SandboxView>> views() throws Exception {
    Map<String, StatusReply<SandboxView>> views = new java.util.LinkedHashMap<>();
    for (SimSandbox sandbox : sandboxes) views.put(sandbox.id, gateway.ask(sandbox.id, Sandbox.Get::new));
    return views;
  }

  /** The recovered view must equal the one before, except that a live session is gone. */
  private static String recoveredAsBefore(StatusReply<SandboxView> before, StatusReply<SandboxView> after, boolean hadLiveSession) {
    if (before.isError() || after.isError()) {
      return before.isError() == after.isError() ? null : "was " + describe(before) + ", recovered as " + describe(after);
    }
    SandboxView b = before.getValue();
    SandboxView a = after.getValue();
    SandboxView expected = b;
    if (hadLiveSession && b.phase() == Phase.READY) {
      List<Condition> conditions = new ArrayList<>();
      for (Condition c : b.conditions()) {
        conditions.add(c.is(Condition.READY)
            ? new Condition(Condition.READY, "False", "DependenciesNotReady", "Supervisor session disconnected", c.lastTransitionTime())
            : c);
      }
      expected = new SandboxView(b.id(), b.name(), b.spec(), b.createdAtMs(), Phase.PROVISIONING, List.copyOf(conditions),
          b.instanceId(), b.revision(), b.removed());
    }
    boolean same = Objects.equals(expected.id(), a.id()) && Objects.equals(expected.name(), a.name())
        && expected.createdAtMs() == a.createdAtMs() && expected.phase() == a.phase()
        && Objects.equals(expected.conditions(), a.conditions()) && Objects.equals(expected.instanceId(), a.instanceId())
        && expected.revision() == a.revision() && expected.removed() == a.removed();
    return same ? null : "was " + b + " (live session: " + hadLiveSession + "), expected " + expected + ", recovered as " + a;
  }

  private static String describe(StatusReply<?> reply) {
    return reply.isSuccess() ? String.valueOf(reply.getValue()) : "error " + reply.getError().getMessage();
  }

  // --- invariants -----------------------------------------------------------------------------

  private Optional<Connection> liveSession(SimSandbox sandbox) {
    return connections.stream()
        .filter(c -> c.sandbox == sandbox && current(c.incarnation) && c.acceptedStamp >= 0 && !c.sessionStopped)
        .reduce((a, b) -> a.acceptedStamp > b.acceptedStamp ? a : b);
  }

  private String describeConnections(SimSandbox sandbox) {
    return connections.stream().filter(c -> c.sandbox == sandbox)
        .map(c -> "#" + c.ordinal + (c.incarnation == incarnation ? "" : " (before a restart)")
            + (c.acceptedStamp >= 0 ? " accepted " + c.acceptedStamp : " not accepted")
            + (c.sessionStopped ? ", session stopped" : ", session running")
            + (c.outboundEnded ? ", stream ended" : ""))
        .toList().toString();
  }

  private List<String> check() throws Exception {
    List<String> violations = new ArrayList<>(restartViolations);
    restartViolations.clear();
    for (String error : errors.drain()) violations.add("an actor failed or logged an error: " + error);
    Map<String, StatusReply<SandboxView>> views = views();
    for (SimSandbox sandbox : sandboxes) {
      List<Connection> live = connections.stream()
          .filter(c -> c.sandbox == sandbox && current(c.incarnation) && c.acceptedStamp >= 0 && !c.sessionStopped).toList();
      if (live.size() > 1) {
        violations.add("sandbox " + sandbox.name + " has " + live.size() + " live sessions (connections "
            + live.stream().map(c -> "#" + c.ordinal).toList() + "); at most one may live");
      }
      long newest = connections.stream().filter(c -> c.sandbox == sandbox && current(c.incarnation) && c.acceptedStamp >= 0)
          .mapToLong(c -> c.acceptedStamp).max().orElse(-1);
      for (Connection c : live) {
        if (c.acceptedStamp != newest) {
          violations.add("sandbox " + sandbox.name + ": connection #" + c.ordinal + " lives although a newer session was accepted");
        }
      }
      StatusReply<SandboxView> view = views.get(sandbox.id);
      if (sandbox.removed) {
        if (view.isSuccess()) violations.add("sandbox " + sandbox.name + " was deleted by the driver but is still " + view.getValue().phase());
        continue;
      }
      if (view.isError()) {
        violations.add("sandbox " + sandbox.name + " is not found (" + view.getError().getMessage() + ") though it was never removed");
        continue;
      }
      Phase driverPhase = sandbox.driver == null ? Phase.PROVISIONING : Readiness.fromDriver(sandbox.driver);
      boolean expectReady = !live.isEmpty() && !sandbox.deleteRequested && driverPhase != Phase.ERROR && driverPhase != Phase.DELETING;
      Phase phase = view.getValue().phase();
      if ((phase == Phase.READY) != expectReady) {
        violations.add("sandbox " + sandbox.name + " is " + phase + " but READY ⇔ live session (" + !live.isEmpty()
            + ") ∧ not deleting (" + !sandbox.deleteRequested + ") ∧ driver not ERROR/DELETING (" + driverPhase + ") says " + expectReady
            + "; connections " + describeConnections(sandbox));
      }
      if (phase == Phase.ERROR && driverPhase != Phase.ERROR) {
        violations.add("sandbox " + sandbox.name + " is ERROR but its driver never said so: a disconnect produced ERROR");
      }
      int pending = gateway.ask(sandbox.id, Sandbox.PendingRelays::new);
      if (pending > gateway.relaySettings.maxPendingPerSandbox()) {
        violations.add("sandbox " + sandbox.name + " has " + pending + " relays in flight; the cap is " + gateway.relaySettings.maxPendingPerSandbox());
      }
    }
    for (Connection c : connections) {
      if (current(c.incarnation) && c.sessionStopped && !c.outboundEnded) {
        violations.add("connection #" + c.ordinal + ": its session actor stopped but the supervisor's stream never ended");
      }
    }
    int inFlight = gateway.budgetInFlight();
    if (inFlight > gateway.relaySettings.maxPendingPerNode()) {
      violations.add(inFlight + " relays in flight on the node; the cap is " + gateway.relaySettings.maxPendingPerNode());
    }
    Duration claimDeadline = gateway.relaySettings.claimTimeout().plusSeconds(3);
    for (OpenCall open : opens) {
      if (!current(open.incarnation)) continue;
      String who = "open #" + open.ordinal + " (sandbox " + open.sandbox.name + ")";
      if (open.outcomes > 1) violations.add(who + " ended " + open.outcomes + " times");
      if (open.failure instanceof TimeoutException || open.failure instanceof org.apache.pekko.pattern.AskTimeoutException) {
        violations.add(who + " ended by its own ask timeout: the gateway never answered it (" + open.failure.getMessage() + ")");
      }
      if (open.outcomes == 0 && open.abandoned) {
        violations.add(who + " was abandoned but still holds its slot: no outcome after the abandon settled");
      }
      if (open.outcomes == 0 && gateway.now().compareTo(open.openedAt.plus(open.wait).plus(claimDeadline)) > 0) {
        violations.add(who + " still waits " + gateway.now().minus(open.openedAt).toSeconds() + " s after it was made: a waiter left hanging");
      }
      if (open.failure instanceof SandboxProblem p && p.code() == Status.Code.UNKNOWN) {
        violations.add(who + " failed with UNKNOWN: " + p.getMessage());
      }
    }
    for (RelayCall relay : relayCalls) {
      if (!current(relay.incarnation)) continue;
      Optional<OpenCall> client = opens.stream()
          .filter(o -> current(o.incarnation) && o.connection != null && o.connection.channelId().equals(relay.channelId)).findFirst();
      boolean bridged = relay.expectedToClaim && client.isPresent();
      if (!bridged && !relay.ended) {
        violations.add("RelayStream #" + relay.ordinal + " for channel " + relay.channelId
            + " is neither bridged to a client nor refused once the step settled (a claim left hanging)");
      }
      if (relay.expectedToClaim && client.isPresent() && relay.failure != null && !relay.closed && !client.get().closed) {
        violations.add("the client of channel " + relay.channelId + " was told its relay is bridged, but the supervisor's RelayStream "
            + "failed: " + relay.failure);
      }
    }
    for (Bridge bridge : bridges()) {
      String channel = bridge.relay.channelId;
      if (bridge.relay.failure == null && bridge.open.receivedFailure == null) {
        if (!bridge.open.received.result().equals(bridge.relay.sent.result())) {
          violations.add("channel " + channel + ": the client received " + bridge.open.received.length() + " bytes, not the "
              + bridge.relay.sent.length() + " the supervisor sent, in order");
        }
        if (!bridge.relay.received.result().equals(bridge.open.sent.result())) {
          violations.add("channel " + channel + ": the supervisor received " + bridge.relay.received.length() + " bytes, not the "
              + bridge.open.sent.length() + " the client sent, in order");
        }
        if (bridge.relay.closed && !bridge.open.receivedEnded) {
          violations.add("channel " + channel + ": the supervisor ended its direction but the client never got EOF");
        }
        if (bridge.open.closed && !bridge.relay.ended) {
          violations.add("channel " + channel + ": the client ended its direction but the supervisor's RelayStream never ended");
        }
      }
    }
    return violations;
  }

  /** Ends every supervisor call and lets all deadlines pass, so nothing may be left in flight. */
  private void drain() throws Exception {
    for (Connection c : connections) {
      if (current(c.incarnation) && !c.inboundEnded) {
        c.inboundEnded = true;
        c.session.tell(SupervisorSession.StreamCompleted.INSTANCE);
      }
    }
    for (Bridge bridge : bridges()) {
      if (!bridge.open.closed && bridge.open.toSupervisor != null) completeQuietly(bridge.open.toSupervisor);
      if (!bridge.relay.closed) completeQuietly(bridge.relay.frames);
      bridge.open.closed = true;
      bridge.relay.closed = true;
    }
    gateway.settle();
    Duration longest = gateway.relaySettings.sshSessionWait().plus(gateway.relaySettings.claimTimeout()).plusSeconds(20);
    gateway.advance(longest);
  }

  private List<String> checkDrained() throws Exception {
    List<String> violations = new ArrayList<>();
    for (OpenCall open : opens) {
      if (current(open.incarnation) && open.outcomes == 0) {
        violations.add("open #" + open.ordinal + " (sandbox " + open.sandbox.name + ") never ended: a waiter left hanging");
      }
    }
    for (SimSandbox sandbox : sandboxes) {
      if (sandbox.removed) continue;
      int pending = gateway.ask(sandbox.id, Sandbox.PendingRelays::new);
      if (pending != 0) violations.add("sandbox " + sandbox.name + " still counts " + pending + " relays in flight when idle");
    }
    int inFlight = gateway.budgetInFlight();
    if (inFlight != 0) violations.add("the node's relay budget still counts " + inFlight + " in flight when idle");
    return violations;
  }
}
