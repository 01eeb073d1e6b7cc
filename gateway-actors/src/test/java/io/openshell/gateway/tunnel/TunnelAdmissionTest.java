package io.openshell.gateway.tunnel;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.gateway.relay.RelayConnection;
import io.openshell.gateway.relay.Relays;
import io.openshell.gateway.sandbox.Phase;
import io.openshell.gateway.sandbox.SandboxProblem;
import io.openshell.gateway.ssh.TokenVerdict;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.pekko.Done;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.SinkRef;
import org.apache.pekko.stream.SourceRef;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.StreamRefs;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Admission of tunnel requests against a scripted gateway (tokens, sandbox phases, relay opens) and
 * the real leases actor: every refusal's status, the caps, and a lease released exactly once on every
 * path, including clients that leave at each step.
 */
class TunnelAdmissionTest {
  private static final ActorTestKit testKit = ActorTestKit.create("TunnelAdmissionTest");
  private static final TunnelSettings SETTINGS = new TunnelSettings("127.0.0.1", 0, "/connect/ssh", 8192,
      Duration.ofSeconds(10), 3, 20, Duration.ofSeconds(30));

  /** A gateway whose answers the test sets; relay opens wait until the test completes them. */
  static final class ScriptedBackend implements TunnelAdmission.Backend {
    volatile TokenVerdict verdict = TokenVerdict.VALID;
    volatile Optional<Phase> phase = Optional.of(Phase.READY);
    volatile CompletableFuture<TokenVerdict> heldTokenCheck;
    final AtomicInteger phaseAsks = new AtomicInteger();
    final LinkedBlockingQueue<Open> opens = new LinkedBlockingQueue<>();

    record Open(String sandboxId, CompletableFuture<RelayConnection> connection, AtomicBoolean abandoned) {}

    @Override
    public CompletionStage<TokenVerdict> checkToken(String token, String sandboxId) {
      CompletableFuture<TokenVerdict> held = heldTokenCheck;
      return held != null ? held : CompletableFuture.completedFuture(verdict);
    }

    @Override
    public CompletionStage<Optional<Phase>> sandboxPhase(String sandboxId) {
      phaseAsks.incrementAndGet();
      return CompletableFuture.completedFuture(phase);
    }

    @Override
    public Relays.Opening openRelay(String sandboxId) {
      Open open = new Open(sandboxId, new CompletableFuture<>(), new AtomicBoolean());
      opens.add(open);
      return new Relays.Opening(UUID.randomUUID().toString(), open.connection(), () -> open.abandoned().set(true));
    }

    Open nextOpen() throws InterruptedException {
      Open open = opens.poll(5, TimeUnit.SECONDS);
      assertNotNull(open, "a relay open was expected");
      return open;
    }
  }

  /** A relay whose two ends report when they are closed. */
  record TestRelay(RelayConnection connection, CompletionStage<Done> toSupervisorEnded, CompletionStage<Done> fromSupervisorEnded) {
    static TestRelay create() throws Exception {
      Pair<CompletionStage<Done>, SourceRef<ByteString>> from = Source.<ByteString>never()
          .watchTermination(Keep.right())
          .toMat(StreamRefs.sourceRef(), Keep.both())
          .run(testKit.system());
      Pair<SinkRef<ByteString>, CompletionStage<Done>> to = StreamRefs.<ByteString>sinkRef()
          .toMat(Sink.ignore(), Keep.both())
          .run(testKit.system());
      RelayConnection connection = new RelayConnection(UUID.randomUUID().toString(),
          from.second(), to.first());
      return new TestRelay(connection, to.second(), from.first());
    }

    void assertClosed() throws Exception {
      toSupervisorEnded.toCompletableFuture().get(10, TimeUnit.SECONDS);
      fromSupervisorEnded.toCompletableFuture().get(10, TimeUnit.SECONDS);
    }
  }

  private ScriptedBackend backend;
  private ActorRef<TunnelLeases.Command> leases;
  private TunnelAdmission admission;

  @AfterAll
  static void tearDown() {
    testKit.shutdownTestKit();
  }

  @BeforeEach
  void setUp() {
    backend = new ScriptedBackend();
    leases = testKit.spawn(TunnelLeases.create(3, 20));
    admission = new TunnelAdmission(testKit.system(), backend, leases, SETTINGS, Duration.ofSeconds(5));
  }

  private TunnelAdmission.Attempt begin(String sandboxId, String token) {
    return admission.begin(new ConnectRequest(sandboxId, token), "test");
  }

  private static int refusal(TunnelAdmission.Attempt attempt) {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> attempt.admitted().toCompletableFuture().get(10, TimeUnit.SECONDS));
    return assertInstanceOf(TunnelRefusal.class, e.getCause()).status();
  }

  private static RelayConnection admitted(TunnelAdmission.Attempt attempt) throws Exception {
    return attempt.admitted().toCompletableFuture().get(10, TimeUnit.SECONDS);
  }

  private TunnelLeases.Counts counts(String token, String sandboxId) {
    TestProbe<TunnelLeases.Counts> probe = testKit.createTestProbe();
    leases.tell(new TunnelLeases.GetCounts(token, sandboxId, probe.getRef()));
    return probe.receiveMessage();
  }

  private void awaitNoLeases() {
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      TunnelLeases.Counts counts = counts("-", "-");
      assertEquals(0, counts.leases());
      assertEquals(0, counts.trackedKeys());
      return null;
    });
  }

  /** Opens one tunnel to the end: admitted with a fresh relay. */
  private TunnelAdmission.Attempt open(String sandboxId, String token) throws Exception {
    TunnelAdmission.Attempt attempt = begin(sandboxId, token);
    backend.nextOpen().connection().complete(TestRelay.create().connection());
    admitted(attempt);
    return attempt;
  }

  @Test
  void everyKindOfBadTokenIs401AndNothingElseIsAsked() {
    for (TokenVerdict verdict : List.of(TokenVerdict.UNKNOWN, TokenVerdict.REVOKED, TokenVerdict.EXPIRED, TokenVerdict.OTHER_SANDBOX)) {
      backend.verdict = verdict;
      TunnelAdmission.Attempt attempt = begin("sandbox", "token");
      assertEquals(401, refusal(attempt), verdict.name());
      attempt.ended();
    }
    assertEquals(0, backend.phaseAsks.get(), "the sandbox is not looked up for a bad token");
    assertTrue(backend.opens.isEmpty());
  }

  @Test
  void aMissingSandboxIs404AndANotReadyOneIs412() {
    backend.phase = Optional.empty();
    assertEquals(404, refusal(begin("sandbox", "token")));
    for (Phase phase : List.of(Phase.PROVISIONING, Phase.DELETING, Phase.ERROR, Phase.UNKNOWN)) {
      backend.phase = Optional.of(phase);
      assertEquals(412, refusal(begin("sandbox", "token")), phase.name());
    }
    assertTrue(backend.opens.isEmpty(), "no relay opens for a sandbox that cannot take it");
    awaitNoLeases();
  }

  @Test
  void aRelayOpenFailureIs502AndItsLeaseIsReleasedWhenTheConnectionEnds() throws Exception {
    TunnelAdmission.Attempt attempt = begin("sandbox", "token");
    backend.nextOpen().connection().completeExceptionally(
        new SandboxProblem(io.grpc.Status.Code.UNAVAILABLE, "supervisor session not connected"));
    assertEquals(502, refusal(attempt));
    assertEquals(1, counts("token", "sandbox").token(), "held until the connection ends");
    attempt.ended();
    awaitNoLeases();
  }

  @Test
  void theFourthConnectionOnOneTokenIs429BeforeAnyRelayOpens() throws Exception {
    List<TunnelAdmission.Attempt> open = new ArrayList<>();
    for (int i = 0; i < 3; i++) open.add(open("sandbox", "token"));
    assertEquals(429, refusal(begin("sandbox", "token")));
    assertTrue(backend.opens.isEmpty(), "the refused connection opened no relay");
    assertEquals(3, counts("token", "sandbox").sandbox(), "the per-token refusal did not count against the sandbox");
    open.get(0).ended();
    testKit.createTestProbe().awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(2, counts("token", "sandbox").token());
      return null;
    });
    open.add(open("sandbox", "token"));
    open.forEach(TunnelAdmission.Attempt::ended);
    awaitNoLeases();
  }

  @Test
  void theTwentyFirstConnectionToOneSandboxIs429AndTheTokenCountIsRolledBack() throws Exception {
    List<TunnelAdmission.Attempt> open = new ArrayList<>();
    for (int i = 0; i < 20; i++) open.add(open("sandbox", "token-" + (i / 3)));
    assertEquals(2, counts("token-6", "sandbox").token());
    assertEquals(429, refusal(begin("sandbox", "token-6")));
    assertEquals(2, counts("token-6", "sandbox").token(), "rolled back");
    assertEquals(20, counts("token-6", "sandbox").sandbox());
    open.add(open("other-sandbox", "token-7"));
    open.forEach(TunnelAdmission.Attempt::ended);
    awaitNoLeases();
  }

  @Test
  void endingAConnectionTwiceReleasesItsLeaseOnce() throws Exception {
    TunnelAdmission.Attempt first = open("sandbox", "token");
    TunnelAdmission.Attempt second = open("sandbox", "token");
    first.ended();
    first.ended();
    testKit.createTestProbe().expectNoMessage(Duration.ofMillis(200));
    assertEquals(1, counts("token", "sandbox").token(), "the second end did not free another connection's slot");
    second.ended();
    awaitNoLeases();
  }

  @Test
  void aClientThatLeavesWhileTheRelayOpensAbandonsItAndReleasesItsLease() throws Exception {
    TunnelAdmission.Attempt attempt = begin("sandbox", "token");
    ScriptedBackend.Open open = backend.nextOpen();
    attempt.ended();
    // The admission may still be registering its end hook on its own thread when the client leaves.
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
    while (!open.abandoned().get() && System.nanoTime() < deadline) Thread.onSpinWait();
    assertTrue(open.abandoned().get(), "the sandbox is told the open is abandoned");
    awaitNoLeases();
    TestRelay late = TestRelay.create();
    open.connection().complete(late.connection());
    late.assertClosed();
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> attempt.admitted().toCompletableFuture().get(5, TimeUnit.SECONDS));
    assertInstanceOf(TunnelAdmission.ClientGone.class, e.getCause());
  }

  @Test
  void aClientThatLeavesDuringTheTokenCheckNeverTakesALeaseOrARelay() throws Exception {
    backend.heldTokenCheck = new CompletableFuture<>();
    TunnelAdmission.Attempt attempt = begin("sandbox", "token");
    attempt.ended();
    backend.heldTokenCheck.complete(TokenVerdict.VALID);
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> attempt.admitted().toCompletableFuture().get(5, TimeUnit.SECONDS));
    assertInstanceOf(TunnelAdmission.ClientGone.class, e.getCause());
    assertEquals(0, backend.phaseAsks.get());
    assertTrue(backend.opens.isEmpty());
    awaitNoLeases();
  }

  @Test
  void aTunnelKeepsItsLeaseUntilItsConnectionEnds() throws Exception {
    TunnelAdmission.Attempt attempt = open("sandbox", "token");
    testKit.createTestProbe().expectNoMessage(Duration.ofMillis(200));
    assertEquals(1, counts("token", "sandbox").leases());
    attempt.ended();
    awaitNoLeases();
  }
}
