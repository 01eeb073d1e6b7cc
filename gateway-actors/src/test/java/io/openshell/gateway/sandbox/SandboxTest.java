package io.openshell.gateway.sandbox;

import static org.junit.jupiter.api.Assertions.*;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import io.grpc.Status;
import io.openshell.gateway.session.SupervisorSession;
import io.openshell.protocol.v1.SandboxSpec;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.cluster.sharding.typed.javadsl.ClusterSharding;
import org.apache.pekko.pattern.StatusReply;
import org.apache.pekko.persistence.testkit.PersistenceTestKitPlugin;
import org.apache.pekko.persistence.testkit.PersistenceTestKitSnapshotPlugin;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

class SandboxTest {

  private static final Config CONFIG = PersistenceTestKitPlugin.getInstance().config()
      .withFallback(PersistenceTestKitSnapshotPlugin.config())
      .withFallback(ConfigFactory.parseString("pekko.actor.provider = local"))
      .withFallback(ConfigFactory.load());
  private static final ActorTestKit testKit = ActorTestKit.create("SandboxTest", CONFIG);
  private static final SandboxSettings SETTINGS = new SandboxSettings(100, 1000, Duration.ofSeconds(10), Duration.ofSeconds(10), 100);

  private final ScriptedDriver driver = new ScriptedDriver();
  private final LinkedBlockingQueue<String> releasedNames = new LinkedBlockingQueue<>();
  private final LinkedBlockingQueue<String> sshSessionsRemoved = new LinkedBlockingQueue<>();
  private ActorRef<Topic.Command<SandboxView>> views;
  private TestProbe<SandboxView> published;
  private Sandbox.Dependencies dependencies;
  private String id;

  @BeforeEach
  void setUp() {
    id = UUID.randomUUID().toString();
    views = testKit.spawn(Topic.create(SandboxView.class, "views-" + id));
    published = testKit.createTestProbe();
    views.tell(Topic.subscribe(published.getRef()));
    dependencies = new Sandbox.Dependencies(driver, views, SETTINGS, (name, sandboxId) -> releasedNames.add(name + "/" + sandboxId),
        new io.openshell.gateway.relay.RelaySettings(Duration.ofSeconds(10), 32, 256, 16384, Duration.ofSeconds(30), Duration.ofSeconds(15)),
        sshSessionsRemoved::add);
  }

  @AfterAll
  static void tearDown() {
    testKit.shutdownTestKit();
  }

  private ActorRef<Sandbox.Command> spawnSandbox() {
    return testKit.spawn(Sandbox.create(id, null, dependencies));
  }

  private ActorRef<Sandbox.Command> createdSandbox() throws Exception {
    ActorRef<Sandbox.Command> sandbox = spawnSandbox();
    TestProbe<StatusReply<SandboxView>> reply = testKit.createTestProbe();
    sandbox.tell(new Sandbox.Create("demo", SandboxSpec.getDefaultInstance().toByteArray(), reply.getRef()));
    driver.nextCall().outcome().complete(null);
    assertEquals(Phase.PROVISIONING, reply.receiveMessage().getValue().phase());
    return sandbox;
  }

  private SandboxView get(ActorRef<Sandbox.Command> sandbox) {
    TestProbe<StatusReply<SandboxView>> reply = testKit.createTestProbe();
    sandbox.tell(new Sandbox.Get(reply.getRef()));
    return reply.receiveMessage().getValue();
  }

  /** A real (stoppable) session actor that forwards what the sandbox tells it to a probe. */
  private ActorRef<SupervisorSession.Command> sessionActor(TestProbe<SupervisorSession.Command> probe) {
    return testKit.spawn(org.apache.pekko.actor.typed.javadsl.Behaviors.receiveMessage(message -> {
      probe.getRef().tell(message);
      return org.apache.pekko.actor.typed.javadsl.Behaviors.same();
    }));
  }

  private String connect(ActorRef<Sandbox.Command> sandbox, TestProbe<SupervisorSession.Command> session) {
    return connect(sandbox, sessionActor(session));
  }

  private String connect(ActorRef<Sandbox.Command> sandbox, ActorRef<SupervisorSession.Command> session) {
    String sessionId = UUID.randomUUID().toString();
    TestProbe<StatusReply<Sandbox.Accepted>> reply = testKit.createTestProbe();
    sandbox.tell(new Sandbox.SupervisorConnected(sessionId, session, SupervisorCredential.digest(driver.credential(id)), reply.getRef()));
    assertTrue(reply.receiveMessage().isSuccess());
    return sessionId;
  }

  private void observe(ActorRef<Sandbox.Command> sandbox, String readyStatus, String reason) {
    TestProbe<Done> ack = testKit.createTestProbe();
    sandbox.tell(new Sandbox.DriverObserved(new DriverObservation("process-1",
        List.of(new Condition("Ready", readyStatus, reason, reason + " message", "")), false), ack.getRef()));
    ack.receiveMessage();
  }

  private static Condition ready(SandboxView view) {
    return view.conditions().stream().filter(c -> c.is("Ready")).findFirst().orElseThrow();
  }

  @Test
  void createIsPersistedAndPublishedBeforeTheDriverIsCalledAndRepliesWhenTheDriverAccepts() throws Exception {
    ActorRef<Sandbox.Command> sandbox = spawnSandbox();
    TestProbe<StatusReply<SandboxView>> reply = testKit.createTestProbe();
    sandbox.tell(new Sandbox.Create("demo", SandboxSpec.getDefaultInstance().toByteArray(), reply.getRef()));
    ScriptedDriver.Call call = driver.nextCall();
    assertEquals("create", call.kind());
    SandboxView created = published.receiveMessage();
    assertEquals(Phase.PROVISIONING, created.phase());
    reply.expectNoMessage(Duration.ofMillis(200));
    call.outcome().complete(null);
    SandboxView view = reply.receiveMessage().getValue();
    assertEquals("demo", view.name());
    assertEquals(id, view.id());
  }

  @Test
  void driverRefusalRollsTheSandboxBackReleasesItsNameAndKeepsTheDriversCode() throws Exception {
    ActorRef<Sandbox.Command> sandbox = spawnSandbox();
    TestProbe<StatusReply<SandboxView>> reply = testKit.createTestProbe();
    sandbox.tell(new Sandbox.Create("demo", SandboxSpec.getDefaultInstance().toByteArray(), reply.getRef()));
    driver.nextCall().outcome().completeExceptionally(
        new io.grpc.StatusRuntimeException(Status.FAILED_PRECONDITION.withDescription("gpu is not supported")));
    StatusReply<SandboxView> refused = reply.receiveMessage();
    assertTrue(refused.isError());
    SandboxProblem problem = (SandboxProblem) refused.getError();
    assertEquals(Status.Code.FAILED_PRECONDITION, problem.code());
    assertEquals("gpu is not supported", problem.getMessage());
    assertEquals("demo/" + id, releasedNames.poll(5, TimeUnit.SECONDS));
    TestProbe<StatusReply<SandboxView>> get = testKit.createTestProbe();
    sandbox.tell(new Sandbox.Get(get.getRef()));
    assertEquals(Status.Code.NOT_FOUND, ((SandboxProblem) get.receiveMessage().getError()).code());
  }

  @Test
  void sessionConnectPromotesToReadyAndDisconnectDemotesToProvisioning() throws Exception {
    ActorRef<Sandbox.Command> sandbox = createdSandbox();
    observe(sandbox, "False", "Starting");
    TestProbe<SupervisorSession.Command> session = testKit.createTestProbe();
    String sessionId = connect(sandbox, session);
    SandboxView readyView = get(sandbox);
    assertEquals(Phase.READY, readyView.phase());
    assertEquals("DependenciesReady", ready(readyView).reason());

    sandbox.tell(new Sandbox.SupervisorDisconnected(sessionId));
    SandboxView demoted = get(sandbox);
    assertEquals(Phase.PROVISIONING, demoted.phase());
    assertEquals("False", ready(demoted).status());
    assertEquals("DependenciesNotReady", ready(demoted).reason());
    assertEquals("Supervisor session disconnected", ready(demoted).message());
  }

  @Test
  void supersededSessionIsToldToStopAndItsLateCleanupDoesNotEvictTheNewerSession() throws Exception {
    ActorRef<Sandbox.Command> sandbox = createdSandbox();
    TestProbe<SupervisorSession.Command> first = testKit.createTestProbe();
    TestProbe<SupervisorSession.Command> second = testKit.createTestProbe();
    ActorRef<SupervisorSession.Command> firstActor = sessionActor(first);
    String firstId = connect(sandbox, firstActor);
    String secondId = connect(sandbox, second);
    assertEquals(new SupervisorSession.Superseded(secondId), first.receiveMessage());

    sandbox.tell(new Sandbox.SupervisorDisconnected(firstId));
    assertEquals(Phase.READY, get(sandbox).phase());
    // The old session actor stopping must not count either.
    testKit.stop(firstActor);
    assertEquals(Phase.READY, get(sandbox).phase());
    second.expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void driverSnapshotThenSessionGivesReady() throws Exception {
    ActorRef<Sandbox.Command> sandbox = createdSandbox();
    observe(sandbox, "False", "Starting");
    connect(sandbox, testKit.createTestProbe());
    assertEquals(Phase.READY, get(sandbox).phase());
  }

  @Test
  void sessionThenDriverSnapshotGivesReady() throws Exception {
    ActorRef<Sandbox.Command> sandbox = createdSandbox();
    connect(sandbox, testKit.createTestProbe());
    observe(sandbox, "False", "Starting");
    SandboxView view = get(sandbox);
    assertEquals(Phase.READY, view.phase());
    assertEquals("DependenciesReady", ready(view).reason());
  }

  @Test
  void driverErrorIsNeverOverriddenAndADisconnectNeverYieldsError() throws Exception {
    ActorRef<Sandbox.Command> sandbox = createdSandbox();
    TestProbe<SupervisorSession.Command> session = testKit.createTestProbe();
    String sessionId = connect(sandbox, session);
    sandbox.tell(new Sandbox.SupervisorDisconnected(sessionId));
    assertEquals(Phase.PROVISIONING, get(sandbox).phase());

    observe(sandbox, "False", "ProcessExited");
    assertEquals(Phase.ERROR, get(sandbox).phase());
    connect(sandbox, testKit.createTestProbe());
    assertEquals(Phase.ERROR, get(sandbox).phase());
  }

  @Test
  void deletingIsPreservedWhileASupervisorConnectsAndTheLiveSessionIsClosed() throws Exception {
    ActorRef<Sandbox.Command> sandbox = createdSandbox();
    TestProbe<SupervisorSession.Command> session = testKit.createTestProbe();
    connect(sandbox, session);
    TestProbe<StatusReply<SandboxView>> deleteReply = testKit.createTestProbe();
    sandbox.tell(new Sandbox.Delete(deleteReply.getRef()));
    ScriptedDriver.Call delete = driver.nextCall();
    assertEquals("delete", delete.kind());
    assertInstanceOf(SupervisorSession.Close.class, session.receiveMessage());
    assertEquals(Phase.DELETING, get(sandbox).phase());
    connect(sandbox, testKit.createTestProbe());
    assertEquals(Phase.DELETING, get(sandbox).phase());

    delete.outcome().complete(null);
    assertTrue(deleteReply.receiveMessage().isSuccess());
    assertEquals("demo/" + id, releasedNames.poll(5, TimeUnit.SECONDS));
  }

  @Test
  void aDriverDeletedEventArrivingBeforeTheDriversReplyStillAnswersTheClient() throws Exception {
    ActorRef<Sandbox.Command> sandbox = createdSandbox();
    TestProbe<StatusReply<SandboxView>> reply = testKit.createTestProbe();
    sandbox.tell(new Sandbox.Delete(reply.getRef()));
    ScriptedDriver.Call delete = driver.nextCall();
    TestProbe<Done> ack = testKit.createTestProbe();
    sandbox.tell(new Sandbox.DriverDeleted(ack.getRef()));
    ack.receiveMessage();
    delete.outcome().complete(null);
    StatusReply<SandboxView> answer = reply.receiveMessage();
    assertTrue(answer.isSuccess(), "the client is answered whichever report comes first");
    assertTrue(answer.getValue().removed());
  }

  /**
   * A sandbox under a stand-in for its shard that, like the real one, stops the entity when it asks to
   * be passivated (a null shard, as elsewhere in this class, never stops it).
   */
  private ActorRef<Sandbox.Command> sandboxUnderStoppingShard() {
    TestProbe<ActorRef<Sandbox.Command>> spawned = testKit.createTestProbe();
    testKit.spawn(Behaviors.<ClusterSharding.ShardCommand>setup(shard -> {
      spawned.getRef().tell(shard.spawn(Sandbox.create(id, shard.getSelf(), dependencies), "sandbox"));
      return Behaviors.receive(ClusterSharding.ShardCommand.class)
          .onMessage(ClusterSharding.Passivate.class, passivate -> {
            shard.stop(passivate.entity());
            return Behaviors.same();
          })
          .build();
    }));
    return spawned.receiveMessage();
  }

  /**
   * A sandbox under a stand-in for its shard that stops it the way sharding does with the entity's
   * stop message: it sends {@link Sandbox.Stop} and waits for the entity to stop itself.
   */
  private ActorRef<Sandbox.Command> sandboxUnderStopMessageShard() {
    TestProbe<ActorRef<Sandbox.Command>> spawned = testKit.createTestProbe();
    testKit.spawn(Behaviors.<ClusterSharding.ShardCommand>setup(shard -> {
      spawned.getRef().tell(shard.spawn(Sandbox.create(id, shard.getSelf(), dependencies), "sandbox"));
      return Behaviors.receive(ClusterSharding.ShardCommand.class)
          .onMessage(ClusterSharding.Passivate.class, passivate -> {
            @SuppressWarnings("unchecked")
            ActorRef<Sandbox.Command> entity = (ActorRef<Sandbox.Command>) passivate.entity();
            entity.tell(Sandbox.Stop.INSTANCE);
            return Behaviors.same();
          })
          .build();
    }));
    return spawned.receiveMessage();
  }

  @Test
  void aLookupsPassivationThatReachesTheEntityAfterAQueuedCreateStillAnswersTheCreator() throws Exception {
    ActorRef<Sandbox.Command> sandbox = sandboxUnderStopMessageShard();
    TestProbe<StatusReply<SandboxView>> looked = testKit.createTestProbe();
    TestProbe<StatusReply<SandboxView>> created = testKit.createTestProbe();
    // GetSandbox by name finds the claimed name before the entity has its Create: the empty entity
    // answers NOT_FOUND and asks to be passivated; the stop message arrives behind the Create.
    sandbox.tell(new Sandbox.Get(looked.getRef()));
    sandbox.tell(new Sandbox.Create("demo", SandboxSpec.getDefaultInstance().toByteArray(), created.getRef()));
    assertEquals(Status.Code.NOT_FOUND, ((SandboxProblem) looked.receiveMessage().getError()).code());
    ScriptedDriver.Call create = driver.nextCall();
    create.outcome().complete(null);
    StatusReply<SandboxView> answer = created.receiveMessage(Duration.ofSeconds(5));
    assertTrue(answer.isSuccess(), String.valueOf(answer));
    testKit.createTestProbe().expectTerminated(sandbox, Duration.ofSeconds(5));
  }

  private ScriptedDriver.Call createThenDelete(ActorRef<Sandbox.Command> sandbox, TestProbe<StatusReply<SandboxView>> deleted)
      throws Exception {
    TestProbe<StatusReply<SandboxView>> created = testKit.createTestProbe();
    sandbox.tell(new Sandbox.Create("demo", SandboxSpec.getDefaultInstance().toByteArray(), created.getRef()));
    driver.nextCall().outcome().complete(null);
    assertTrue(created.receiveMessage().isSuccess());
    sandbox.tell(new Sandbox.Delete(deleted.getRef()));
    ScriptedDriver.Call delete = driver.nextCall();
    assertEquals("delete", delete.kind());
    return delete;
  }

  @Test
  void aDeletedWatchEventBeforeTheDriversReplyKeepsTheEntityUntilTheClientIsAnswered() throws Exception {
    ActorRef<Sandbox.Command> sandbox = sandboxUnderStoppingShard();
    TestProbe<StatusReply<SandboxView>> deleted = testKit.createTestProbe();
    ScriptedDriver.Call delete = createThenDelete(sandbox, deleted);
    TestProbe<Done> ack = testKit.createTestProbe();
    sandbox.tell(new Sandbox.DriverDeleted(ack.getRef()));
    ack.receiveMessage();
    assertEquals("demo/" + id, releasedNames.poll(5, TimeUnit.SECONDS));

    delete.outcome().complete(null);
    // Well inside the 10 s ask a client would wait: the entity answers, then passivates.
    StatusReply<SandboxView> answer = deleted.receiveMessage(Duration.ofSeconds(3));
    assertTrue(answer.isSuccess(), String.valueOf(answer));
    assertTrue(answer.getValue().removed());
    testKit.createTestProbe().expectTerminated(sandbox, Duration.ofSeconds(5));
  }

  @Test
  void theDriversReplyBeforeTheDeletedWatchEventAnswersTheClientAndPassivates() throws Exception {
    ActorRef<Sandbox.Command> sandbox = sandboxUnderStoppingShard();
    TestProbe<StatusReply<SandboxView>> deleted = testKit.createTestProbe();
    ScriptedDriver.Call delete = createThenDelete(sandbox, deleted);
    delete.outcome().complete(null);
    StatusReply<SandboxView> answer = deleted.receiveMessage(Duration.ofSeconds(3));
    assertTrue(answer.isSuccess(), String.valueOf(answer));
    assertTrue(answer.getValue().removed());
    assertEquals("demo/" + id, releasedNames.poll(5, TimeUnit.SECONDS));
    testKit.createTestProbe().expectTerminated(sandbox, Duration.ofSeconds(5));

    // The late watch event reaches a fresh incarnation (as sharding would start one), which recovers
    // the removed record and acknowledges it without resurrecting anything.
    ActorRef<Sandbox.Command> recovered = sandboxUnderStoppingShard();
    TestProbe<Done> ack = testKit.createTestProbe();
    recovered.tell(new Sandbox.DriverDeleted(ack.getRef()));
    ack.receiveMessage();
    TestProbe<StatusReply<SandboxView>> get = testKit.createTestProbe();
    recovered.tell(new Sandbox.Get(get.getRef()));
    assertEquals(Status.Code.NOT_FOUND, ((SandboxProblem) get.receiveMessage().getError()).code());
  }

  @Test
  void aSandboxDeletedWhileTheDriverCreatesItAnswersTheCreator() throws Exception {
    ActorRef<Sandbox.Command> sandbox = spawnSandbox();
    TestProbe<StatusReply<SandboxView>> created = testKit.createTestProbe();
    sandbox.tell(new Sandbox.Create("demo", SandboxSpec.getDefaultInstance().toByteArray(), created.getRef()));
    ScriptedDriver.Call create = driver.nextCall();
    TestProbe<StatusReply<SandboxView>> deleted = testKit.createTestProbe();
    sandbox.tell(new Sandbox.Delete(deleted.getRef()));
    driver.nextCall().outcome().complete(null);
    assertTrue(deleted.receiveMessage().isSuccess());
    create.outcome().complete(null);
    assertEquals(Status.Code.ABORTED, ((SandboxProblem) created.receiveMessage().getError()).code());
  }

  @Test
  void deleteRemovesTheSandboxsSshSessionsBeforeTheDriverIsCalled() throws Exception {
    ActorRef<Sandbox.Command> sandbox = createdSandbox();
    TestProbe<StatusReply<SandboxView>> reply = testKit.createTestProbe();
    sandbox.tell(new Sandbox.Delete(reply.getRef()));
    ScriptedDriver.Call call = driver.nextCall();
    assertEquals("delete", call.kind());
    assertEquals(id, sshSessionsRemoved.poll(5, TimeUnit.SECONDS));
    call.outcome().complete(null);
    assertTrue(reply.receiveMessage().isSuccess());
  }

  @Test
  void failedDriverDeleteKeepsTheSandboxDeletingAndARetryFinishesIt() throws Exception {
    ActorRef<Sandbox.Command> sandbox = createdSandbox();
    TestProbe<StatusReply<SandboxView>> reply = testKit.createTestProbe();
    sandbox.tell(new Sandbox.Delete(reply.getRef()));
    driver.nextCall().outcome().completeExceptionally(new RuntimeException("disk busy"));
    StatusReply<SandboxView> failed = reply.receiveMessage();
    assertTrue(failed.isError());
    assertTrue(failed.getError().getMessage().contains("disk busy"), failed.getError().getMessage());
    assertEquals(Phase.DELETING, get(sandbox).phase());

    sandbox.tell(new Sandbox.Delete(reply.getRef()));
    driver.nextCall().outcome().complete(null);
    assertTrue(reply.receiveMessage().isSuccess());
  }

  @Test
  void recoveredSandboxKeepsItsRecordButIsNotReadyUntilItsSupervisorReconnects() throws Exception {
    ActorRef<Sandbox.Command> sandbox = createdSandbox();
    observe(sandbox, "False", "Starting");
    connect(sandbox, testKit.createTestProbe());
    SandboxView before = get(sandbox);
    assertEquals(Phase.READY, before.phase());
    testKit.stop(sandbox);

    ActorRef<Sandbox.Command> recovered = spawnSandbox();
    SandboxView after = get(recovered);
    assertEquals(before.name(), after.name());
    assertEquals(before.createdAtMs(), after.createdAtMs());
    assertEquals(Phase.PROVISIONING, after.phase());
    assertEquals("DependenciesNotReady", ready(after).reason());

    connect(recovered, testKit.createTestProbe());
    assertEquals(Phase.READY, get(recovered).phase());
  }

  @Test
  void unchangedDriverObservationIsNeitherPersistedNorPublished() throws Exception {
    ActorRef<Sandbox.Command> sandbox = createdSandbox();
    published.receiveMessage(); // created
    observe(sandbox, "False", "Starting");
    long revision = published.receiveMessage().revision();
    observe(sandbox, "False", "Starting");
    published.expectNoMessage(Duration.ofMillis(300));
    assertEquals(revision, get(sandbox).revision());
  }

  @Test
  void aStoppedSessionActorDemotesTheSandbox() throws Exception {
    ActorRef<Sandbox.Command> sandbox = createdSandbox();
    ActorRef<SupervisorSession.Command> session = sessionActor(testKit.createTestProbe());
    connect(sandbox, session);
    testKit.stop(session);
    TestProbe<Phase> phase = testKit.createTestProbe();
    phase.awaitAssert(Duration.ofSeconds(10), () -> {
      assertEquals(Phase.PROVISIONING, get(sandbox).phase());
      return null;
    });
  }

  @Test
  void unknownSandboxRejectsASupervisorWithNotFound() {
    ActorRef<Sandbox.Command> sandbox = spawnSandbox();
    TestProbe<StatusReply<Sandbox.Accepted>> reply = testKit.createTestProbe();
    sandbox.tell(new Sandbox.SupervisorConnected("s", testKit.<SupervisorSession.Command>createTestProbe().getRef(), reply.getRef()));
    StatusReply<Sandbox.Accepted> rejected = reply.receiveMessage();
    assertEquals(Status.Code.NOT_FOUND, ((SandboxProblem) rejected.getError()).code());
    assertEquals("sandbox not found", rejected.getError().getMessage());
  }

  // --- the supervisor credential ----------------------------------------------------------------

  private StatusReply<Sandbox.Accepted> hello(ActorRef<Sandbox.Command> sandbox, byte[] credentialDigest) {
    TestProbe<StatusReply<Sandbox.Accepted>> reply = testKit.createTestProbe();
    sandbox.tell(new Sandbox.SupervisorConnected(UUID.randomUUID().toString(),
        sessionActor(testKit.createTestProbe()), credentialDigest, reply.getRef()));
    return reply.receiveMessage();
  }

  @Test
  void createHandsTheDriverAFreshCredentialAndOnlyItsDigestOpensASession() throws Exception {
    ActorRef<Sandbox.Command> sandbox = createdSandbox();
    String credential = driver.credential(id);
    assertTrue(credential.matches("[A-Za-z0-9_-]{43}"), "32 random bytes, base64url: " + credential.length());
    StatusReply<Sandbox.Accepted> none = hello(sandbox, null);
    assertEquals(Status.Code.UNAUTHENTICATED, ((SandboxProblem) none.getError()).code());
    StatusReply<Sandbox.Accepted> wrong = hello(sandbox, SupervisorCredential.digest(SupervisorCredential.mint()));
    assertEquals(Status.Code.PERMISSION_DENIED, ((SandboxProblem) wrong.getError()).code());
    assertEquals(Phase.PROVISIONING, get(sandbox).phase(), "a refused Hello changes nothing");
    assertTrue(hello(sandbox, SupervisorCredential.digest(credential)).isSuccess());
    assertEquals(Phase.READY, get(sandbox).phase());

    TestProbe<StatusReply<Done>> verified = testKit.createTestProbe();
    sandbox.tell(new Sandbox.VerifySupervisor(SupervisorCredential.digest(credential), verified.getRef()));
    assertTrue(verified.receiveMessage().isSuccess());
    sandbox.tell(new Sandbox.VerifySupervisor(null, verified.getRef()));
    assertEquals(Status.Code.UNAUTHENTICATED, ((SandboxProblem) verified.receiveMessage().getError()).code());
  }

  @Test
  void theCredentialSurvivesARestartOfTheEntity() throws Exception {
    ActorRef<Sandbox.Command> sandbox = createdSandbox();
    String credential = driver.credential(id);
    testKit.stop(sandbox);
    ActorRef<Sandbox.Command> recovered = spawnSandbox();
    assertTrue(hello(recovered, SupervisorCredential.digest(credential)).isSuccess());
    TestProbe<Done> reconciled = testKit.createTestProbe();
    recovered.tell(new Sandbox.Reconcile(reconciled.getRef()));
    reconciled.receiveMessage();
    driver.nextCall().outcome().complete(null);
    assertEquals(credential, driver.credential(id), "a restarted supervisor gets the same credential");
  }

  @Test
  void aSandboxRecoveredFromAJournalWithoutACredentialGetsOneBeforeItsDriverRestartsIt() throws Exception {
    org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit journal =
        org.apache.pekko.persistence.testkit.javadsl.PersistenceTestKit.create(testKit.system());
    journal.persistForRecovery(org.apache.pekko.persistence.typed.PersistenceId.of(Sandbox.ENTITY_KEY.name(), id).id(),
        List.of(new Sandbox.SandboxCreated(id, "old", SandboxSpec.getDefaultInstance().toByteArray(), 1_000L, null)));
    ActorRef<Sandbox.Command> sandbox = spawnSandbox();
    assertEquals(Status.Code.PERMISSION_DENIED,
        ((SandboxProblem) hello(sandbox, SupervisorCredential.digest("any guess")).getError()).code());

    TestProbe<Done> reconciled = testKit.createTestProbe();
    sandbox.tell(new Sandbox.Reconcile(reconciled.getRef()));
    reconciled.receiveMessage();
    driver.nextCall().outcome().complete(null);
    String minted = driver.credential(id);
    assertTrue(minted.matches("[A-Za-z0-9_-]{43}"));
    assertTrue(hello(sandbox, SupervisorCredential.digest(minted)).isSuccess());
    assertTrue(journal.persistedInStorage(org.apache.pekko.persistence.typed.PersistenceId.of(Sandbox.ENTITY_KEY.name(), id).id())
        .stream().anyMatch(event -> event instanceof Sandbox.SupervisorCredentialMinted));
  }

  @Test
  void anOldSandboxCreatedEventWithoutTheCredentialFieldStillDeserializes() throws Exception {
    var mapper = org.apache.pekko.serialization.jackson.JacksonObjectMapperProvider.get(testKit.system())
        .getOrCreate("jackson-cbor", java.util.Optional.empty());
    byte[] oldEvent = mapper.writeValueAsBytes(java.util.Map.of("id", id, "name", "old",
        "spec", SandboxSpec.getDefaultInstance().toByteArray(), "createdAtMs", 1_000L));
    var serialization = org.apache.pekko.serialization.SerializationExtension.get(testKit.system());
    var serializer = serialization.serializerFor(Sandbox.SandboxCreated.class);
    Object decoded = serialization.deserialize(oldEvent, serializer.identifier(), Sandbox.SandboxCreated.class.getName()).get();
    Sandbox.SandboxCreated created = assertInstanceOf(Sandbox.SandboxCreated.class, decoded);
    assertEquals("old", created.name());
    assertNull(created.supervisorCredential());
  }

  @Test
  void eventsAndStateNeverPrintTheCredential() {
    String credential = SupervisorCredential.mint();
    var created = new Sandbox.SandboxCreated(id, "n", new byte[0], 1L, credential);
    assertFalse(created.toString().contains(credential), created.toString());
    assertTrue(created.toString().contains(SupervisorCredential.redact(credential)));
    assertFalse(Sandbox.State.empty().apply(created).toString().contains(credential));
    assertFalse(new Sandbox.SupervisorCredentialMinted(credential).toString().contains(credential));
  }
}
