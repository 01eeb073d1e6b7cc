package io.openshell.it;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.openshell.gateway.cluster.ClusterSettings;
import io.openshell.gateway.persistence.DatabaseUrl;
import io.openshell.gateway.persistence.JournalConfig;
import io.openshell.gateway.persistence.JournalSchema;
import io.openshell.gateway.relay.RelayConnection;
import io.openshell.gateway.relay.RelaySettings;
import io.openshell.gateway.sandbox.Phase;
import io.openshell.gateway.sandbox.Sandbox;
import io.openshell.gateway.sandbox.SandboxSettings;
import io.openshell.gateway.sandbox.SandboxView;
import io.openshell.gateway.session.SupervisorSession;
import io.openshell.protocol.compute.v1.*;
import java.net.ServerSocket;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;
import org.apache.pekko.Done;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.MemberStatus;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.cluster.typed.Cluster;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamRefs;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Three cluster nodes as three ActorSystems in one JVM (real artery on loopback, real Cluster
 * Sharding, the real Sandbox entity journalling to a real PostgreSQL), driven message by message:
 * the supersede race across nodes and a relay whose client and supervisor sit on different nodes.
 * Supervisor sessions are test probes: this is about what the entity does with them.
 */
class ClusterSimulationIT {
  private static PostgresServer postgres;
  private static JournalSchema schema;
  private static final List<ActorTestKit> nodes = new ArrayList<>();

  @BeforeAll
  static void startThreeNodes() throws Exception {
    postgres = PostgresServer.forSuite("CLUSTER SIMULATION");
    DatabaseUrl db = DatabaseUrl.parse(postgres.createDatabase("openshell_sim").url(), Path.of("/tmp"));
    schema = JournalSchema.apply(db);
    int[] ports = {freePort(), freePort(), freePort()};
    String seeds = java.util.Arrays.stream(ports).mapToObj(p -> "127.0.0.1:" + p).collect(Collectors.joining(","));
    for (int port : ports) {
      ClusterSettings cluster = new ClusterSettings("127.0.0.1", port, ClusterSettings.parseSeeds(seeds),
          Duration.ofSeconds(60), Duration.ofSeconds(5));
      Config config = cluster.pekkoConfig("openshell-gateway").withFallback(JournalConfig.forDatabase(db))
          .withFallback(ConfigFactory.load());
      ActorTestKit node = ActorTestKit.create("openshell-gateway", config);
      nodes.add(node);
      startSandboxes(node.system(), config);
    }
    Awaits.require(Duration.ofSeconds(90), "three members Up", () -> nodes.stream().allMatch(n ->
        java.util.stream.StreamSupport.stream(Cluster.get(n.system()).state().getMembers().spliterator(), false)
            .filter(m -> m.status() == MemberStatus.up()).count() == 3));
  }

  private static void startSandboxes(ActorSystem<?> system, Config config) {
    Config gateway = config.getConfig("openshell.gateway");
    var views = system.systemActorOf(Topic.create(SandboxView.class, "sandbox-views"), "sandbox-views", Props.empty());
    Sandbox.init(system, new Sandbox.Dependencies(new AcceptingDriver(), views, SandboxSettings.fromConfig(gateway),
        (name, id) -> { }, RelaySettings.fromConfig(gateway), id -> { }));
  }

  @AfterAll
  static void stop() throws Exception {
    // All at once and with patience: each node leaves the cluster on its way down, which on a loaded
    // machine takes longer than the testkit's 10 s default.
    for (ActorTestKit node : nodes) node.system().terminate();
    for (ActorTestKit node : nodes) node.system().getWhenTerminated().toCompletableFuture().get(90, TimeUnit.SECONDS);
    if (schema != null) schema.close();
    if (postgres != null) postgres.close();
  }

  @Test
  void aSupersededSessionsLateCleanupFromAThirdNodeDoesNotEvictTheNewSession() {
    String id = createSandbox("supersede");
    ActorTestKit a = nodes.get(0);
    ActorTestKit b = nodes.get(1);
    ActorTestKit c = nodes.get(2);
    TestProbe<SupervisorSession.Command> oldSession = a.createTestProbe();
    TestProbe<SupervisorSession.Command> newSession = b.createTestProbe();

    Sandbox.Accepted first = register(a, id, "session-old", oldSession);
    assertEquals("supersede", first.sandboxName());
    register(b, id, "session-new", newSession);
    assertEquals(new SupervisorSession.Superseded("session-new"),
        oldSession.expectMessageClass(SupervisorSession.Superseded.class, Duration.ofSeconds(20)));

    // The old session's cleanup arrives late, from yet another node.
    ClusterSharding.get(c.system()).entityRefFor(Sandbox.ENTITY_KEY, id).tell(new Sandbox.SupervisorDisconnected("session-old"));
    SandboxView view = get(c, id);
    assertEquals(Phase.READY, view.phase(), "the newer session still makes the sandbox READY");
    // And the entity still routes work to the new session, on node B.
    TestProbe<StatusReply<RelayConnection>> client = c.createTestProbe();
    ClusterSharding.get(c.system()).entityRefFor(Sandbox.ENTITY_KEY, id)
        .tell(new Sandbox.OpenRelay(UUID.randomUUID().toString(), Duration.ofSeconds(5), client.getRef()));
    newSession.expectMessageClass(SupervisorSession.OpenRelay.class, Duration.ofSeconds(20));
    oldSession.expectNoMessage(Duration.ofMillis(300));
  }

  @Test
  void aRelayBridgesAClientOnOneNodeToASupervisorStreamOnAnotherWithBytesIntact() throws Exception {
    String id = createSandbox("routing");
    ActorTestKit supervisorNode = nodes.get(1);
    ActorTestKit clientNode = nodes.get(2);
    TestProbe<SupervisorSession.Command> session = supervisorNode.createTestProbe();
    register(supervisorNode, id, "session-routing", session);

    String channelId = UUID.randomUUID().toString();
    TestProbe<StatusReply<RelayConnection>> client = clientNode.createTestProbe();
    ClusterSharding.get(clientNode.system()).entityRefFor(Sandbox.ENTITY_KEY, id)
        .tell(new Sandbox.OpenRelay(channelId, Duration.ofSeconds(5), client.getRef()));
    SupervisorSession.OpenRelay open = session.expectMessageClass(SupervisorSession.OpenRelay.class, Duration.ofSeconds(20));
    assertEquals(channelId, open.channelId());

    // What the supervisor's RelayStream does on its node: hand out stream references for both directions.
    byte[] payload = new byte[8 * 1024 * 1024];
    new Random(3).nextBytes(payload);
    var fromSupervisor = Source.range(0, payload.length / 16384 - 1)
        .map(i -> ByteString.fromArray(payload, i * 16384, 16384))
        .runWith(StreamRefs.sourceRef(), supervisorNode.system());
    var toSupervisor = StreamRefs.<ByteString>sinkRef()
        .toMat(Sink.fold(ByteString.emptyByteString(), ByteString::concat), org.apache.pekko.stream.javadsl.Keep.both())
        .run(supervisorNode.system());
    TestProbe<Boolean> accepted = supervisorNode.createTestProbe();
    open.sandbox().tell(new Sandbox.RelayClaimed(channelId,
        new RelayConnection(channelId, fromSupervisor, toSupervisor.first()), accepted.getRef()));
    assertTrue(accepted.expectMessageClass(Boolean.class, Duration.ofSeconds(20)));

    RelayConnection connection = client.expectMessageClass(StatusReply.class, Duration.ofSeconds(20)).getValue() instanceof RelayConnection r
        ? r : fail("the client got no relay");
    ByteString received = connection.fromSupervisor().getSource()
        .runWith(Sink.fold(ByteString.emptyByteString(), ByteString::concat), clientNode.system())
        .toCompletableFuture().get(60, TimeUnit.SECONDS);
    assertEquals(sha256(payload), sha256(received.toArray()), "8 MiB from the supervisor's node arrive intact");
    byte[] upload = new byte[1024 * 1024];
    new Random(4).nextBytes(upload);
    // One 1 MiB element: bigger than an artery frame, so it must be cut on its way in.
    Source.single(ByteString.fromArray(upload)).runWith(connection.sink(), clientNode.system());
    assertEquals(sha256(upload), sha256(toSupervisor.second().toCompletableFuture().get(60, TimeUnit.SECONDS).toArray()),
        "1 MiB from the client's node reaches the supervisor's");
  }

  @Test
  void sixtyFourOpensFromThreeNodesAdmitExactlyThirtyTwoForOneSandbox() {
    String id = createSandbox("capped");
    List<TestProbe<StatusReply<RelayConnection>>> clients = new ArrayList<>();
    for (int i = 0; i < 64; i++) {
      ActorTestKit node = nodes.get(i % nodes.size());
      TestProbe<StatusReply<RelayConnection>> client = node.createTestProbe();
      clients.add(client);
      // No session: the admitted opens wait (2 s), the rest are refused at once by the one entity.
      ClusterSharding.get(node.system()).entityRefFor(Sandbox.ENTITY_KEY, id)
          .tell(new Sandbox.OpenRelay(UUID.randomUUID().toString(), Duration.ofSeconds(2), client.getRef()));
    }
    int refused = 0;
    int timedOut = 0;
    for (TestProbe<StatusReply<RelayConnection>> client : clients) {
      @SuppressWarnings("unchecked")
      StatusReply<RelayConnection> reply = client.expectMessageClass(StatusReply.class, Duration.ofSeconds(30));
      assertTrue(reply.isError());
      var problem = (io.openshell.gateway.sandbox.SandboxProblem) reply.getError();
      if (problem.getMessage().equals("per-sandbox relay limit reached (32 in flight for " + id + ")")) {
        assertEquals(io.grpc.Status.Code.RESOURCE_EXHAUSTED, problem.code());
        refused++;
      } else {
        assertEquals("supervisor session not connected", problem.getMessage());
        assertEquals(io.grpc.Status.Code.UNAVAILABLE, problem.code());
        timedOut++;
      }
    }
    assertEquals(32, refused);
    assertEquals(32, timedOut);
  }

  private static String createSandbox(String name) {
    ActorTestKit node = nodes.get(0);
    String id = UUID.randomUUID().toString();
    StatusReply<SandboxView> reply = ClusterSharding.get(node.system()).entityRefFor(Sandbox.ENTITY_KEY, id)
        .<StatusReply<SandboxView>>ask(replyTo -> new Sandbox.Create(name, new byte[0], replyTo), Duration.ofSeconds(30))
        .toCompletableFuture().join();
    assertTrue(reply.isSuccess(), String.valueOf(reply));
    return id;
  }

  private static Sandbox.Accepted register(ActorTestKit node, String id, String sessionId, TestProbe<SupervisorSession.Command> session) {
    return ClusterSharding.get(node.system()).entityRefFor(Sandbox.ENTITY_KEY, id)
        .<StatusReply<Sandbox.Accepted>>ask(replyTo -> new Sandbox.SupervisorConnected(sessionId, session.getRef(),
                io.openshell.gateway.sandbox.SupervisorCredential.digest(AcceptingDriver.CREDENTIALS.get(id)), replyTo),
            Duration.ofSeconds(30))
        .toCompletableFuture().join().getValue();
  }

  private static SandboxView get(ActorTestKit node, String id) {
    return ClusterSharding.get(node.system()).entityRefFor(Sandbox.ENTITY_KEY, id)
        .<StatusReply<SandboxView>>ask(Sandbox.Get::new, Duration.ofSeconds(30))
        .toCompletableFuture().join().getValue();
  }

  private static int freePort() throws java.io.IOException {
    try (ServerSocket socket = new ServerSocket(0)) {
      return socket.getLocalPort();
    }
  }

  private static String sha256(byte[] bytes) throws Exception {
    return java.util.HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
  }

  /** A compute driver that accepts every call: this test is about sessions and relays, not processes. */
  private static final class AcceptingDriver implements ComputeDriver {
    /** The supervisor credential each sandbox's create handed over, whichever node's driver got it. */
    static final java.util.concurrent.ConcurrentHashMap<String, String> CREDENTIALS = new java.util.concurrent.ConcurrentHashMap<>();

    @Override
    public CompletionStage<GetCapabilitiesResponse> getCapabilities(GetCapabilitiesRequest in) {
      return CompletableFuture.completedFuture(GetCapabilitiesResponse.getDefaultInstance());
    }

    @Override
    public CompletionStage<ValidateSandboxCreateResponse> validateSandboxCreate(ValidateSandboxCreateRequest in) {
      return CompletableFuture.completedFuture(ValidateSandboxCreateResponse.getDefaultInstance());
    }

    @Override
    public CompletionStage<GetSandboxResponse> getSandbox(GetSandboxRequest in) {
      return CompletableFuture.completedFuture(GetSandboxResponse.getDefaultInstance());
    }

    @Override
    public CompletionStage<ListSandboxesResponse> listSandboxes(ListSandboxesRequest in) {
      return CompletableFuture.completedFuture(ListSandboxesResponse.getDefaultInstance());
    }

    @Override
    public CompletionStage<CreateSandboxResponse> createSandbox(CreateSandboxRequest in) {
      CREDENTIALS.put(in.getSandbox().getId(), in.getSandbox().getSpec().getSupervisorCredential());
      return CompletableFuture.completedFuture(CreateSandboxResponse.getDefaultInstance());
    }

    @Override
    public CompletionStage<StopSandboxResponse> stopSandbox(StopSandboxRequest in) {
      return CompletableFuture.completedFuture(StopSandboxResponse.getDefaultInstance());
    }

    @Override
    public CompletionStage<DeleteSandboxResponse> deleteSandbox(DeleteSandboxRequest in) {
      return CompletableFuture.completedFuture(DeleteSandboxResponse.getDefaultInstance());
    }

    @Override
    public Source<WatchSandboxesEvent, NotUsed> watchSandboxes(WatchSandboxesRequest in) {
      return Source.empty();
    }
  }
}
