package io.openshell.it.sim;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.openshell.gateway.persistence.DatabaseUrl;
import io.openshell.gateway.persistence.JournalConfig;
import io.openshell.gateway.persistence.JournalSchema;
import io.openshell.gateway.relay.RelayBudget;
import io.openshell.gateway.relay.RelayDirectory;
import io.openshell.gateway.relay.RelaySettings;
import io.openshell.gateway.relay.RelayStreamHandler;
import io.openshell.gateway.relay.Relays;
import io.openshell.gateway.sandbox.Sandbox;
import io.openshell.gateway.sandbox.SandboxSettings;
import io.openshell.gateway.sandbox.SandboxView;
import io.openshell.gateway.session.SessionSettings;
import java.lang.reflect.Field;
import java.nio.file.Path;
import java.util.concurrent.atomic.AtomicLong;
import org.apache.pekko.testkit.ExplicitlyTriggeredScheduler;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.pekko.pattern.StatusReply;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Function;
import org.apache.pekko.actor.testkit.typed.javadsl.ManualTime;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.Cluster;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;

/**
 * One gateway node as the simulation sees it: a real single-node cluster with the real Sandbox
 * entities (sharded, event-sourced), the node's RelayBudget and RelayDirectory, the real
 * {@link Relays} client side and {@link RelayStreamHandler}; supervisor sessions are the real
 * {@code SupervisorSession} actors, spawned per simulated connection by {@link World}.
 *
 * <p>Time is Pekko's {@link ManualTime}: no timer fires unless the history says time passes. Every
 * actor runs on {@link SimulationExecutor}'s one thread, so {@link #settle()} knows when a step is
 * over. The journal is Pekko's in-memory test journal, or a SQLite file for histories that restart
 * the node (a new ActorSystem recovering from the same file).
 */
final class SimulatedGateway implements AutoCloseable {
  /** Real-time patience for the simulated system to go quiet; far above a step's cost. */
  private static final Duration SETTLE_PATIENCE = Duration.ofSeconds(60);
  private static final Duration TICK = Duration.ofSeconds(1);

  final ActorSystem<Void> system;
  private final ExplicitlyTriggeredScheduler scheduler;
  private final AtomicLong schedulerClock;
  final ClusterSharding sharding;
  final RelaySettings relaySettings;
  final SessionSettings sessionSettings;
  final ActorRef<RelayBudget.Command> budget;
  final ActorRef<RelayDirectory.Command> directory;
  final Relays relays;
  final RelayStreamHandler relayStreams;
  final SimulatedDriver driver;
  private final JournalSchema schema;
  private final boolean journalOutsideExecutor;
  private final Set<String> sandboxIds = new LinkedHashSet<>();
  /** Simulated time since this node started. */
  private Duration now = Duration.ZERO;

  private SimulatedGateway(ActorSystem<Void> system, JournalSchema schema, SimulatedDriver driver) {
    this.system = system;
    this.schema = schema;
    this.journalOutsideExecutor = schema != null;
    this.driver = driver;
    this.scheduler = (ExplicitlyTriggeredScheduler) Adapter.toClassic(system).scheduler();
    this.schedulerClock = clockOf(scheduler);
    this.sharding = ClusterSharding.get(system);
    Config gateway = system.settings().config().getConfig("openshell.gateway");
    this.relaySettings = RelaySettings.fromConfig(gateway);
    this.sessionSettings = SessionSettings.fromConfig(gateway);
    this.budget = system.systemActorOf(RelayBudget.create(relaySettings.maxPendingPerNode()), "relay-budget", Props.empty());
    this.directory = system.systemActorOf(RelayDirectory.create(), "relay-directory", Props.empty());
    this.relays = new Relays(system, budget, relaySettings);
    this.relayStreams = new RelayStreamHandler(system, directory, relaySettings.frameSize(),
        SandboxSettings.fromConfig(gateway).requireSupervisorCredential());
  }

  /**
   * Starts a node. {@code sqliteFile} empty: in-memory journal. {@code overrides} are settings the
   * history runs with (e.g. a node relay cap the history can reach).
   */
  static SimulatedGateway start(String name, java.util.Optional<Path> sqliteFile, Config overrides) throws Exception {
    Config journal;
    JournalSchema schema = null;
    if (sqliteFile.isPresent()) {
      DatabaseUrl db = DatabaseUrl.parse("sqlite:" + sqliteFile.get(), sqliteFile.get().getParent());
      schema = JournalSchema.apply(db);
      journal = JournalConfig.forDatabase(db);
    } else {
      journal = PersistenceTestKitPlugin.getInstance().config().withFallback(PersistenceTestKitSnapshotPlugin.config());
    }
    String executor = SimulationExecutor.class.getName();
    Config config = overrides
        .withFallback(ConfigFactory.parseString("""
            pekko.actor.default-dispatcher.executor = "%1$s"
            pekko.actor.internal-dispatcher.executor = "%1$s"
            pekko.remote.default-remote-dispatcher.executor = "%1$s"
            pekko.actor.default-blocking-io-dispatcher.executor = "%1$s"
            # Journal plugins get a pinned thread of their own by default: bring them onto the one thread too.
            pekko.persistence.dispatchers.default-plugin-dispatcher { type = Dispatcher, executor = "%1$s" }
            pekko.persistence.dispatchers.default-replay-dispatcher { type = Dispatcher, executor = "%1$s" }
            pekko.persistence.dispatchers.default-stream-dispatcher { type = Dispatcher, executor = "%1$s" }
            pekko.loglevel = WARNING
            pekko.log-dead-letters = off
            pekko.cluster.log-info = off
            pekko.remote.artery.canonical.port = 0
            # A simulated node is thrown away, not drained: no leave dance under a stopped clock.
            pekko.coordinated-shutdown.run-by-actor-system-terminate = off
            pekko.coordinated-shutdown.terminate-actor-system = off
            pekko.cluster.run-coordinated-shutdown-when-down = off
            # Journal calls are bounded by circuit breakers on the scheduler; simulated time must not
            # time out a JDBC call that is still running in real time.
            jdbc-journal.circuit-breaker.call-timeout = 1h
            jdbc-snapshot-store.circuit-breaker.call-timeout = 1h
            jdbc-journal.recovery-event-timeout = 1h
            # Driver futures are completed by the history; never by a real-time timeout.
            openshell.gateway.sandbox.driver-call-timeout = 1h
            # The histories are about message order, not identity: simulated supervisors speak without
            # the sandbox credential (its checks are ConnectSupervisorIT's, RelayIT's and BadInputIT's).
            openshell.gateway.sandbox.require-supervisor-credential = off
            """.formatted(executor)))
        .withFallback(ManualTime.config())
        .withFallback(journal)
        .withFallback(ConfigFactory.load());
    ActorSystem<Void> system = ActorSystem.create(Behaviors.empty(), name, config);
    SimulatedDriver driver = new SimulatedDriver();
    SimulatedGateway gateway = new SimulatedGateway(system, schema, driver);
    gateway.joinAndInit();
    return gateway;
  }

  private void joinAndInit() throws Exception {
    Cluster cluster = Cluster.get(Adapter.toClassic(system));
    cluster.join(cluster.selfAddress());
    ActorRef<Topic.Command<SandboxView>> views = system.systemActorOf(
        Topic.create(SandboxView.class, "sandbox-views"), "sandbox-views", Props.empty());
    Config gateway = system.settings().config().getConfig("openshell.gateway");
    Sandbox.init(system, new Sandbox.Dependencies(driver, views, SandboxSettings.fromConfig(gateway),
        (name, sandboxId) -> { }, relaySettings, sandboxId -> { }));
    // Cluster membership and the shard coordinator move on scheduler ticks: let simulated time pass
    // until this node is Up and a sandbox lookup is answered through sharding.
    for (int tick = 0; tick < 120; tick++) {
      if (cluster.selfMember().status() == MemberStatus.up()) {
        TestProbe<StatusReply<SandboxView>> probe = TestProbe.create(system);
        sharding.entityRefFor(Sandbox.ENTITY_KEY, "warm-up").tell(new Sandbox.Get(probe.getRef()));
        settle();
        // A SQLite journal recovers the warm-up entity on Slick's threads: give it real time first.
        if ((journalOutsideExecutor ? receiveWithin(probe, Duration.ofMillis(500)) : poll(probe)) != null) {
          now = Duration.ZERO;
          return;
        }
      }
      advance(TICK);
    }
    throw new IllegalStateException("the simulated node did not come up within 120 simulated seconds");
  }

  /** The test scheduler keeps its clock private; only {@code timePasses} (with its sleep) moves it. */
  private static AtomicLong clockOf(ExplicitlyTriggeredScheduler scheduler) {
    try {
      Field field = ExplicitlyTriggeredScheduler.class.getDeclaredField("currentTime");
      field.setAccessible(true);
      return (AtomicLong) field.get(scheduler);
    } catch (ReflectiveOperationException e) {
      throw new IllegalStateException("ExplicitlyTriggeredScheduler changed: no currentTime clock to drive", e);
    }
  }

  private static <T> T receiveWithin(TestProbe<T> probe, Duration patience) {
    try {
      return probe.receiveMessage(patience);
    } catch (AssertionError none) {
      return null;
    }
  }

  /** The message the probe already holds, or null; only meaningful right after {@link #settle()}. */
  static <T> T poll(TestProbe<T> probe) {
    try {
      return probe.receiveMessage(Duration.ofMillis(1));
    } catch (AssertionError none) {
      return null;
    }
  }

  /** Sandbox ids whose entities {@link #settle()} must wait for when the journal is JDBC. */
  void track(String sandboxId) {
    sandboxIds.add(sandboxId);
  }

  Duration now() {
    return now;
  }

  /** Returns once no message is in flight anywhere in the node and every journal write is done. */
  void settle() throws InterruptedException, TimeoutException {
    SimulationExecutor.awaitIdle(SETTLE_PATIENCE);
    if (!journalOutsideExecutor) return;
    // JDBC writes run on Slick's threads, outside the simulation thread. An entity stashes commands
    // while it persists, so a Get answered by every entity means their writes are done; what the
    // writes then set off is on the simulation thread again.
    List<TestProbe<StatusReply<SandboxView>>> probes = new ArrayList<>();
    for (String id : sandboxIds) {
      TestProbe<StatusReply<SandboxView>> probe = TestProbe.create(system);
      sharding.entityRefFor(Sandbox.ENTITY_KEY, id).tell(new Sandbox.Get(probe.getRef()));
      probes.add(probe);
    }
    for (var probe : probes) {
      probe.receiveMessage(SETTLE_PATIENCE);
      probe.stop();
    }
    SimulationExecutor.awaitIdle(SETTLE_PATIENCE);
  }

  /**
   * Simulated time passes in one-second ticks, each settled, so timers fire in their order. The
   * scheduler is driven directly: {@code ManualTime.timePasses} sleeps 100 ms of real time per call to
   * let dispatchers catch up, which {@link #settle()} makes unnecessary (and 60 ticks a history slow).
   */
  void advance(Duration amount) throws InterruptedException, TimeoutException {
    for (Duration left = amount; left.compareTo(Duration.ZERO) > 0; left = left.minus(TICK)) {
      Duration step = left.compareTo(TICK) < 0 ? left : TICK;
      long to = scheduler.currentTimeMs() + step.toMillis();
      scheduler.executeTasks(to);
      schedulerClock.set(to);
      now = now.plus(step);
      settle();
    }
  }

  /** Tells a sandbox entity (through sharding, as every caller in the gateway does). */
  void tell(String sandboxId, Sandbox.Command command) {
    sharding.entityRefFor(Sandbox.ENTITY_KEY, sandboxId).tell(command);
  }

  /** Asks a sandbox entity and waits for its answer (there once the node has settled). */
  <T> T ask(String sandboxId, Function<ActorRef<T>, Sandbox.Command> message) throws InterruptedException, TimeoutException {
    TestProbe<T> probe = TestProbe.create(system);
    Sandbox.Command command = message.apply(probe.getRef());
    tell(sandboxId, command);
    settle();
    T answer = poll(probe);
    probe.stop();
    if (answer == null) throw new Unanswered("sandbox " + sandboxId + " did not answer " + command + " once the node had settled");
    return answer;
  }

  /** A query the node left unanswered with nothing in flight: it waits for simulated time, a defect. */
  static final class Unanswered extends RuntimeException {
    Unanswered(String message) {
      super(message);
    }
  }

  int budgetInFlight() throws InterruptedException, TimeoutException {
    TestProbe<Integer> probe = TestProbe.create(system);
    budget.tell(new RelayBudget.InFlight(probe.getRef()));
    settle();
    Integer answer = poll(probe);
    probe.stop();
    if (answer == null) throw new Unanswered("the relay budget did not answer once the node had settled");
    return answer;
  }

  @Override
  public void close() throws Exception {
    system.terminate();
    // Termination needs no timer ticks once coordinated shutdown is off; real-time patience suffices.
    system.getWhenTerminated().toCompletableFuture().get(60, TimeUnit.SECONDS);
    if (schema != null) schema.close();
  }
}
