package io.openshell.gateway.relay;

import io.openshell.gateway.sandbox.SupervisorCredential;
import static io.openshell.gateway.RandomBytes.randomBytes;
import static org.junit.jupiter.api.Assertions.*;

import io.grpc.Status;
import io.openshell.gateway.AcceptingDriver;
import io.openshell.gateway.TestGateway;
import io.openshell.gateway.sandbox.SandboxProblem;
import io.openshell.protocol.v1.*;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.testkit.TestPublisher;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.apache.pekko.stream.testkit.javadsl.TestSource;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** The relay plane on the real gateway wiring, the test playing the supervisor (UPSTREAM §C "Relay integration"). */
class RelayIT {
  private static TestGateway gateway;

  @BeforeAll
  static void start() throws Exception {
    Path state = Files.createTempDirectory("relay-it");
    gateway = TestGateway.start("sqlite::memory:", state, new AcceptingDriver(), "");
  }

  @AfterAll
  static void stop() throws Exception {
    gateway.close();
  }

  private static String sandbox(String name) throws Exception {
    return gateway.client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance()).setName(name).build())
        .toCompletableFuture().get(30, TimeUnit.SECONDS).getSandbox().getId();
  }

  private static void awaitReady(String name) {
    gateway.awaitReady(name);
  }

  private static RelayConnection open(String sandboxId, Duration wait) throws Exception {
    return gateway.running.relays().open(sandboxId, wait).connection().toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static SandboxProblem openFailure(String sandboxId, Duration wait) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> open(sandboxId, wait));
    return (SandboxProblem) e.getCause();
  }

  /** Writes bytes to the relay and reads the same number back. */
  private static ByteString roundTrip(RelayConnection relay, byte[] payload) throws Exception {
    CompletableFuture<ByteString> received = relay.fromSupervisor().getSource()
        .scan(ByteString.emptyByteString(), ByteString::concat)
        .dropWhile(acc -> acc.size() < payload.length)
        .runWith(Sink.head(), gateway.system).toCompletableFuture();
    Source.single(ByteString.fromArray(payload)).concat(Source.never()).runWith(relay.toSupervisor().getSink(), gateway.system);
    return received.get(60, TimeUnit.SECONDS);
  }

  @Test
  void bytesRoundTripThroughARelayIntact() throws Exception {
    String id = sandbox("relay-echo");
    EchoSupervisor supervisor = new EchoSupervisor(gateway.client, gateway.system, id, gateway.credential(id), EchoSupervisor.Mode.ECHO);
    awaitReady("relay-echo");
    byte[] payload = randomBytes(1 << 20, 1);
    assertEquals(ByteString.fromArray(payload), roundTrip(open(id, Duration.ofSeconds(30)), payload));
    supervisor.close();
  }

  @Test
  void theGatewayEncodesAndParsesRelayFramesWithoutCopyingTheirBytes() {
    // The generated handler reads this field on every RelayStream call; the round trips here go through it.
    assertSame(RelayFrameSerializer.INSTANCE, OpenShell.Serializers.RelayFrameSerializer);
  }

  @Test
  void twoConcurrentRelaysOnOneConnectionDoNotCrossTalk() throws Exception {
    String id = sandbox("relay-two");
    EchoSupervisor supervisor = new EchoSupervisor(gateway.client, gateway.system, id, gateway.credential(id), EchoSupervisor.Mode.ECHO);
    awaitReady("relay-two");
    RelayConnection a = open(id, Duration.ofSeconds(30));
    RelayConnection b = open(id, Duration.ofSeconds(30));
    byte[] pa = randomBytes(300_000, 2);
    byte[] pb = randomBytes(300_000, 3);
    var ra = CompletableFuture.supplyAsync(() -> uncheckedRoundTrip(a, pa));
    var rb = CompletableFuture.supplyAsync(() -> uncheckedRoundTrip(b, pb));
    assertEquals(ByteString.fromArray(pa), ra.get(60, TimeUnit.SECONDS));
    assertEquals(ByteString.fromArray(pb), rb.get(60, TimeUnit.SECONDS));
    supervisor.close();
  }

  private static ByteString uncheckedRoundTrip(RelayConnection relay, byte[] payload) {
    try {
      return roundTrip(relay, payload);
    } catch (Exception e) {
      throw new IllegalStateException(e);
    }
  }

  @Test
  void anOpenWithoutASessionFailsUnavailableAfterTheWait() throws Exception {
    String id = sandbox("relay-nosession");
    long started = System.nanoTime();
    SandboxProblem problem = openFailure(id, Duration.ofMillis(500));
    assertEquals(Status.Code.UNAVAILABLE, problem.code());
    assertEquals("supervisor session not connected", problem.getMessage());
    assertTrue(System.nanoTime() - started >= Duration.ofMillis(450).toNanos());
  }

  @Test
  void aSessionThatRegistersDuringTheWaitIsUsedAtOnce() throws Exception {
    String id = sandbox("relay-late");
    var opening = gateway.running.relays().open(id, Duration.ofSeconds(30));
    EchoSupervisor supervisor = new EchoSupervisor(gateway.client, gateway.system, id, gateway.credential(id), EchoSupervisor.Mode.ECHO);
    RelayConnection relay = opening.connection().toCompletableFuture().get(20, TimeUnit.SECONDS);
    assertEquals(ByteString.fromString("late"), roundTrip(relay, "late".getBytes()));
    supervisor.close();
  }

  @Test
  void aFailedRelayOpenResultFailsTheWaitingClientWithTheSupervisorsError() throws Exception {
    String id = sandbox("relay-refused");
    EchoSupervisor supervisor = new EchoSupervisor(gateway.client, gateway.system, id, gateway.credential(id), EchoSupervisor.Mode.REFUSE);
    awaitReady("relay-refused");
    long started = System.nanoTime();
    SandboxProblem problem = openFailure(id, Duration.ofSeconds(30));
    assertEquals(Status.Code.UNAVAILABLE, problem.code());
    assertEquals("supervisor relay failed: ssh socket refused", problem.getMessage());
    assertTrue(System.nanoTime() - started < Duration.ofSeconds(5).toNanos(), "failed at once, not after a timeout");
    supervisor.close();
  }

  @Test
  void anUnclaimedRelayTimesOutAfterTheClaimTimeout() throws Exception {
    String id = sandbox("relay-unclaimed");
    EchoSupervisor supervisor = new EchoSupervisor(gateway.client, gateway.system, id, gateway.credential(id), EchoSupervisor.Mode.IGNORE);
    awaitReady("relay-unclaimed");
    long started = System.nanoTime();
    SandboxProblem problem = openFailure(id, Duration.ofSeconds(30));
    assertEquals(Status.Code.DEADLINE_EXCEEDED, problem.code());
    assertEquals("relay channel timed out", problem.getMessage());
    long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
    assertTrue(seconds >= 9 && seconds <= 15, "claim timeout is 10 s, took " + seconds);
    supervisor.close();
  }

  @Test
  void sixtyFourConcurrentOpensAdmitExactlyThirtyTwoAndAnotherSandboxStillOpens() throws Exception {
    String id = sandbox("relay-burst");
    EchoSupervisor silent = new EchoSupervisor(gateway.client, gateway.system, id, gateway.credential(id), EchoSupervisor.Mode.IGNORE);
    awaitReady("relay-burst");
    List<CompletableFuture<RelayConnection>> opens = new ArrayList<>();
    for (int i = 0; i < 64; i++) opens.add(gateway.running.relays().open(id, Duration.ofSeconds(30)).connection().toCompletableFuture());
    // Rejections are immediate; the admitted 32 wait for a claim that a silent supervisor never makes.
    TestProbe.create(gateway.system).awaitAssert(Duration.ofSeconds(5), () -> {
      assertEquals(32, opens.stream().filter(CompletableFuture::isDone).count());
      return null;
    });
    int limited = 0;
    for (var open : opens) {
      if (!open.isDone()) continue;
      ExecutionException e = assertThrows(ExecutionException.class, open::get);
      SandboxProblem problem = (SandboxProblem) e.getCause();
      assertEquals(Status.Code.RESOURCE_EXHAUSTED, problem.code());
      assertEquals("per-sandbox relay limit reached (32 in flight for " + id + ")", problem.getMessage());
      limited++;
    }
    assertEquals(32, limited);

    String other = sandbox("relay-burst-other");
    EchoSupervisor echo = new EchoSupervisor(gateway.client, gateway.system, other, gateway.credential(other), EchoSupervisor.Mode.ECHO);
    awaitReady("relay-burst-other");
    assertEquals(ByteString.fromString("ok"), roundTrip(open(other, Duration.ofSeconds(30)), "ok".getBytes()));
    silent.close();
    echo.close();
  }

  @Test
  void theGatewayWideCapAdmits256RelaysInFlightAndRefusesThe257th() throws Exception {
    List<EchoSupervisor> supervisors = new ArrayList<>();
    List<CompletableFuture<RelayConnection>> admitted = new ArrayList<>();
    for (int s = 0; s < 9; s++) {
      String name = "relay-cap-" + s;
      String id = sandbox(name);
      supervisors.add(new EchoSupervisor(gateway.client, gateway.system, id, gateway.credential(id), EchoSupervisor.Mode.IGNORE));
      awaitReady(name);
      if (s == 8) {
        // 8 x 32 = 256 are in flight: the gateway refuses before the sandbox's own cap is reached.
        SandboxProblem problem = openFailure(id, Duration.ofSeconds(30));
        assertEquals(Status.Code.RESOURCE_EXHAUSTED, problem.code());
        assertEquals("gateway relay capacity reached (256 in flight)", problem.getMessage());
      } else {
        for (int i = 0; i < 32; i++) admitted.add(gateway.running.relays().open(id, Duration.ofSeconds(30)).connection().toCompletableFuture());
        // Each batch must be in flight before the next sandbox fills up.
        TestProbe.create(gateway.system).expectNoMessage(Duration.ofMillis(100));
        assertTrue(admitted.stream().noneMatch(CompletableFuture::isDone), "admitted relays wait for their claim");
      }
    }
    // Once the unclaimed relays time out the budget is free again.
    for (var open : admitted) assertThrows(ExecutionException.class, () -> open.get(30, TimeUnit.SECONDS));
    String id = sandbox("relay-cap-after");
    EchoSupervisor echo = new EchoSupervisor(gateway.client, gateway.system, id, gateway.credential(id), EchoSupervisor.Mode.ECHO);
    awaitReady("relay-cap-after");
    assertEquals(ByteString.fromString("free"), roundTrip(open(id, Duration.ofSeconds(30)), "free".getBytes()));
    supervisors.forEach(EchoSupervisor::close);
    echo.close();
  }

  @Test
  void claimErrorsFollowUpstream() throws Exception {
    Status unknown = relayError(Source.single(RelayFrame.newBuilder().setInit(RelayInit.newBuilder().setChannelId("nope")).build()));
    assertEquals(Status.Code.NOT_FOUND, unknown.getCode());
    assertEquals("unknown or expired relay channel", unknown.getDescription());
    Status empty = relayError(Source.empty());
    assertEquals(Status.Code.INVALID_ARGUMENT, empty.getCode());
    assertEquals("empty RelayStream", empty.getDescription());
    Status notInit = relayError(Source.single(RelayFrame.newBuilder().setData(com.google.protobuf.ByteString.copyFromUtf8("x")).build()));
    assertEquals(Status.Code.INVALID_ARGUMENT, notInit.getCode());
    assertEquals("first RelayFrame must be init with non-empty channel_id", notInit.getDescription());
    Status emptyId = relayError(Source.single(RelayFrame.newBuilder().setInit(RelayInit.getDefaultInstance()).build()));
    assertEquals("first RelayFrame must be init with non-empty channel_id", emptyId.getDescription());
  }

  private static Status relayError(Source<RelayFrame, org.apache.pekko.NotUsed> frames) {
    TestSubscriber.Probe<RelayFrame> probe = gateway.client.relayStream(frames)
        .runWith(TestSink.create(gateway.system), gateway.system);
    probe.request(1);
    return Status.fromThrowable(probe.expectError());
  }

  @Test
  void droppingTheClientSideEndsTheSupervisorsStreamAndTheSupervisorClosingGivesTheClientEof() throws Exception {
    String id = sandbox("relay-ends");
    // A supervisor whose relay stream the test drives by hand.
    var control = Source.<SupervisorMessage>queue(16, org.apache.pekko.stream.OverflowStrategy.backpressure()).preMaterialize(gateway.system);
    control.first().offer(SupervisorMessage.newBuilder().setHello(SupervisorHello.newBuilder().setSandboxId(id)).build());
    String credential = gateway.credential(id);
    TestSubscriber.Probe<GatewayMessage> gatewayMessages = gateway.client.connectSupervisor()
        .addHeader(SupervisorCredential.METADATA_KEY, credential).invoke(control.second())
        .runWith(TestSink.create(gateway.system), gateway.system);
    gatewayMessages.request(10);
    assertTrue(gatewayMessages.expectNext(Duration.ofSeconds(20)).hasSessionAccepted());

    // Relay 1: the client drops its side; the supervisor's RelayStream must end within 5 s.
    var opening = gateway.running.relays().open(id, Duration.ofSeconds(30));
    String channel = gatewayMessages.expectNext(Duration.ofSeconds(20)).getRelayOpen().getChannelId();
    TestPublisher.Probe<RelayFrame> supervisorOut = TestPublisher.probe(0, org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(gateway.system));
    TestSubscriber.Probe<RelayFrame> supervisorIn = gateway.client.relayStream()
        .addHeader(SupervisorCredential.METADATA_KEY, credential).invoke(
            Source.fromPublisher(supervisorOut).mapMaterializedValue(m -> org.apache.pekko.NotUsed.getInstance()))
        .runWith(TestSink.create(gateway.system), gateway.system);
    supervisorOut.sendNext(RelayFrame.newBuilder().setInit(RelayInit.newBuilder().setChannelId(channel)).build());
    RelayConnection relay = opening.connection().toCompletableFuture().get(20, TimeUnit.SECONDS);
    Source.<ByteString>empty().runWith(relay.toSupervisor().getSink(), gateway.system);
    relay.fromSupervisor().getSource().runWith(Sink.cancelled(), gateway.system);
    supervisorIn.request(1);
    supervisorIn.expectComplete();

    // Relay 2: the supervisor finishes; the client sees EOF within 5 s.
    var second = gateway.running.relays().open(id, Duration.ofSeconds(30));
    String channel2 = gatewayMessages.expectNext(Duration.ofSeconds(20)).getRelayOpen().getChannelId();
    TestPublisher.Probe<RelayFrame> out2 = TestPublisher.probe(0, org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(gateway.system));
    gateway.client.relayStream().addHeader(SupervisorCredential.METADATA_KEY, credential).invoke(Source.fromPublisher(out2).mapMaterializedValue(m -> org.apache.pekko.NotUsed.getInstance()))
        .runWith(Sink.ignore(), gateway.system);
    out2.sendNext(RelayFrame.newBuilder().setInit(RelayInit.newBuilder().setChannelId(channel2)).build());
    RelayConnection relay2 = second.connection().toCompletableFuture().get(20, TimeUnit.SECONDS);
    TestSubscriber.Probe<ByteString> clientIn = relay2.fromSupervisor().getSource().runWith(TestSink.create(gateway.system), gateway.system);
    out2.sendNext(RelayFrame.newBuilder().setData(com.google.protobuf.ByteString.copyFromUtf8("bye")).build());
    out2.sendComplete();
    clientIn.request(5);
    assertEquals(ByteString.fromString("bye"), clientIn.expectNext(Duration.ofSeconds(5)));
    clientIn.expectComplete();
    control.first().complete();
  }

  private static Status relayError(Source<RelayFrame, org.apache.pekko.NotUsed> frames, String credential) {
    var call = gateway.client.relayStream();
    if (credential != null) call = call.addHeader(SupervisorCredential.METADATA_KEY, credential);
    TestSubscriber.Probe<RelayFrame> probe = call.invoke(frames).runWith(TestSink.create(gateway.system), gateway.system);
    probe.request(1);
    return Status.fromThrowable(probe.expectError());
  }

  @Test
  void aClaimOfAnotherSandboxsRelayIsRefusedAndLeavesTheRelayToItsOwnSupervisor() throws Exception {
    String a = sandbox("relay-claim-a");
    String b = sandbox("relay-claim-b");
    var control = Source.<SupervisorMessage>queue(16, org.apache.pekko.stream.OverflowStrategy.backpressure()).preMaterialize(gateway.system);
    control.first().offer(SupervisorMessage.newBuilder().setHello(SupervisorHello.newBuilder().setSandboxId(b)).build());
    TestSubscriber.Probe<GatewayMessage> messages = gateway.client.connectSupervisor()
        .addHeader(SupervisorCredential.METADATA_KEY, gateway.credential(b)).invoke(control.second())
        .runWith(TestSink.create(gateway.system), gateway.system);
    messages.request(10);
    assertTrue(messages.expectNext(Duration.ofSeconds(20)).hasSessionAccepted());
    var opening = gateway.running.relays().open(b, Duration.ofSeconds(30));
    String channel = messages.expectNext(Duration.ofSeconds(20)).getRelayOpen().getChannelId();
    Source<RelayFrame, org.apache.pekko.NotUsed> init = Source.single(RelayFrame.newBuilder()
        .setInit(RelayInit.newBuilder().setChannelId(channel)).build());

    // A's supervisor learned B's channel id: its credential is A's, not the one B's session was accepted with.
    Status asA = relayError(init, gateway.credential(a));
    assertEquals(Status.Code.PERMISSION_DENIED, asA.getCode());
    assertEquals("relay channel belongs to another sandbox's supervisor session", asA.getDescription());
    Status anonymous = relayError(init, null);
    assertEquals(Status.Code.UNAUTHENTICATED, anonymous.getCode());
    assertEquals("no sandbox credential: send the sandbox's credential in the x-sandbox-credential metadata, as on "
        + "ConnectSupervisor", anonymous.getDescription());
    // An unknown channel stays NOT_FOUND whatever is presented: existence is decided before the credential.
    Status unknown = relayError(Source.single(RelayFrame.newBuilder().setInit(RelayInit.newBuilder().setChannelId("nope")).build()),
        gateway.credential(a));
    assertEquals(Status.Code.NOT_FOUND, unknown.getCode());
    assertFalse(opening.connection().toCompletableFuture().isDone(), "a refused claim must not consume the relay");

    TestPublisher.Probe<RelayFrame> out = TestPublisher.probe(0, org.apache.pekko.actor.typed.javadsl.Adapter.toClassic(gateway.system));
    gateway.client.relayStream().addHeader(SupervisorCredential.METADATA_KEY, gateway.credential(b))
        .invoke(Source.fromPublisher(out).mapMaterializedValue(m -> org.apache.pekko.NotUsed.getInstance()))
        .runWith(Sink.ignore(), gateway.system);
    out.sendNext(RelayFrame.newBuilder().setInit(RelayInit.newBuilder().setChannelId(channel)).build());
    RelayConnection relay = opening.connection().toCompletableFuture().get(20, TimeUnit.SECONDS);
    TestSubscriber.Probe<ByteString> clientIn = relay.fromSupervisor().getSource().runWith(TestSink.create(gateway.system), gateway.system);
    out.sendNext(RelayFrame.newBuilder().setData(com.google.protobuf.ByteString.copyFromUtf8("from-b")).build());
    clientIn.request(1);
    assertEquals(ByteString.fromString("from-b"), clientIn.expectNext(Duration.ofSeconds(10)));
    out.sendComplete();
    control.first().complete();
  }
}
