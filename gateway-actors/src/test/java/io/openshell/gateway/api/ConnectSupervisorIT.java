package io.openshell.gateway.api;

import static org.junit.jupiter.api.Assertions.*;

import io.grpc.Status;
import io.openshell.gateway.AcceptingDriver;
import io.openshell.gateway.TestGateway;
import io.openshell.protocol.v1.*;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/** ConnectSupervisor and gateway-owned readiness against the real gateway wiring (UPSTREAM §B 1–11, 28–34). */
class ConnectSupervisorIT {
  private static TestGateway gateway;
  private static final AcceptingDriver driver = new AcceptingDriver();

  @BeforeAll
  static void start() throws Exception {
    Path state = Files.createTempDirectory("connect-supervisor-it");
    gateway = TestGateway.start("sqlite:" + state.resolve("gw.db"), state, driver, "");
  }

  @AfterAll
  static void stop() throws Exception {
    gateway.close();
  }

  private static Sandbox create(String name) throws Exception {
    return gateway.client.createSandbox(CreateSandboxRequest.newBuilder()
            .setSpec(SandboxSpec.getDefaultInstance()).setName(name).build())
        .toCompletableFuture().get(30, TimeUnit.SECONDS).getSandbox();
  }

  private static Sandbox get(String name) throws Exception {
    return gateway.client.getSandbox(GetSandboxRequest.newBuilder().setName(name).build())
        .toCompletableFuture().get(30, TimeUnit.SECONDS).getSandbox();
  }

  private static Status rejection(SupervisorLink link) {
    link.in.request(1);
    return Status.fromThrowable(link.in.expectError());
  }

  private static void awaitPhase(String name, SandboxPhase phase, Duration within) {
    TestProbe<Object> probe = TestProbe.create(gateway.system);
    probe.awaitAssert(within, Duration.ofMillis(50), () -> {
      assertEquals(phase, get(name).getPhase());
      return null;
    });
  }

  private static SessionAccepted accepted(SupervisorLink link) {
    link.in.request(1);
    GatewayMessage first = link.in.expectNext(TestGateway.patience());
    assertTrue(first.hasSessionAccepted(), "first message must be SessionAccepted, was " + first);
    return first.getSessionAccepted();
  }

  @Test
  void firstMessageThatIsNotHelloIsRejected() {
    SupervisorLink link = SupervisorLink.open(gateway.client, gateway.system);
    link.send(SupervisorMessage.newBuilder().setHeartbeat(SupervisorHeartbeat.getDefaultInstance()).build());
    Status status = rejection(link);
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertEquals("expected SupervisorHello", status.getDescription());
  }

  @Test
  void streamClosedBeforeHelloIsRejected() {
    SupervisorLink link = SupervisorLink.open(gateway.client, gateway.system);
    link.out.complete();
    Status status = rejection(link);
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertEquals("stream closed before hello", status.getDescription());
  }

  @Test
  void emptySandboxIdIsRejected() {
    SupervisorLink link = SupervisorLink.open(gateway.client, gateway.system);
    link.send(SupervisorLink.hello(""));
    Status status = rejection(link);
    assertEquals(Status.Code.INVALID_ARGUMENT, status.getCode());
    assertEquals("sandbox_id is required", status.getDescription());
  }

  @Test
  void unknownSandboxIsNotFoundAndNothingIsRegistered() {
    SupervisorLink link = SupervisorLink.open(gateway.client, gateway.system);
    link.send(SupervisorLink.hello("00000000-0000-4000-8000-000000000000"));
    Status status = rejection(link);
    assertEquals(Status.Code.NOT_FOUND, status.getCode());
    assertEquals("sandbox not found", status.getDescription());
  }

  @Test
  void acceptedSessionMakesTheSandboxReadyAndClosingItDemotesWithinOneSecond() throws Exception {
    Sandbox sandbox = create("connect-ready");
    assertEquals(SandboxPhase.SANDBOX_PHASE_PROVISIONING, sandbox.getPhase());
    SupervisorLink link = SupervisorLink.open(gateway.client, gateway.system, gateway.credential(sandbox.getId()));
    link.send(SupervisorLink.hello(sandbox.getId()));
    SessionAccepted accepted = accepted(link);
    assertEquals(15, accepted.getHeartbeatIntervalSecs());
    assertTrue(accepted.getSessionId().matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));

    Sandbox ready = get("connect-ready");
    assertEquals(SandboxPhase.SANDBOX_PHASE_READY, ready.getPhase());
    SandboxCondition condition = ready.getStatus().getConditions(0);
    assertEquals("Ready", condition.getType());
    assertEquals("True", condition.getStatus());
    assertEquals("DependenciesReady", condition.getReason());
    assertEquals("Supervisor session connected", condition.getMessage());

    link.out.complete();
    awaitPhase("connect-ready", SandboxPhase.SANDBOX_PHASE_PROVISIONING, Duration.ofSeconds(1));
    SandboxCondition demoted = get("connect-ready").getStatus().getConditions(0);
    assertEquals("DependenciesNotReady", demoted.getReason());
    assertEquals("Supervisor session disconnected", demoted.getMessage());
  }

  @Test
  void secondHelloSupersedesTheFirstWhoseStreamIsCompleted() throws Exception {
    Sandbox sandbox = create("connect-supersede");
    SupervisorLink first = SupervisorLink.open(gateway.client, gateway.system, gateway.credential(sandbox.getId()));
    first.send(SupervisorLink.hello(sandbox.getId()));
    String firstId = accepted(first).getSessionId();
    SupervisorLink second = SupervisorLink.open(gateway.client, gateway.system, gateway.credential(sandbox.getId()));
    second.send(SupervisorLink.hello(sandbox.getId()));
    String secondId = accepted(second).getSessionId();
    assertNotEquals(firstId, secondId);

    first.in.request(1);
    first.in.expectComplete();
    // The superseded call has ended on both sides; its cleanup must not demote the sandbox.
    TestProbe<Object> probe = TestProbe.create(gateway.system);
    probe.expectNoMessage(Duration.ofMillis(500));
    assertEquals(SandboxPhase.SANDBOX_PHASE_READY, get("connect-supersede").getPhase());
    second.out.complete();
    awaitPhase("connect-supersede", SandboxPhase.SANDBOX_PHASE_PROVISIONING, Duration.ofSeconds(5));
  }

  @Test
  void reconnectRestoresReady() throws Exception {
    Sandbox sandbox = create("connect-again");
    SupervisorLink first = SupervisorLink.open(gateway.client, gateway.system, gateway.credential(sandbox.getId()));
    first.send(SupervisorLink.hello(sandbox.getId()));
    accepted(first);
    first.out.fail(new RuntimeException("supervisor crashed"));
    awaitPhase("connect-again", SandboxPhase.SANDBOX_PHASE_PROVISIONING, Duration.ofSeconds(5));
    SupervisorLink again = SupervisorLink.open(gateway.client, gateway.system, gateway.credential(sandbox.getId()));
    again.send(SupervisorLink.hello(sandbox.getId()));
    accepted(again);
    assertEquals(SandboxPhase.SANDBOX_PHASE_READY, get("connect-again").getPhase());
    again.out.complete();
  }

  @Test
  void deletingASandboxClosesItsSupervisorSession() throws Exception {
    Sandbox sandbox = create("connect-delete");
    SupervisorLink link = SupervisorLink.open(gateway.client, gateway.system, gateway.credential(sandbox.getId()));
    link.send(SupervisorLink.hello(sandbox.getId()));
    accepted(link);
    assertTrue(gateway.client.deleteSandbox(DeleteSandboxRequest.newBuilder().setName("connect-delete").build())
        .toCompletableFuture().get(30, TimeUnit.SECONDS).getDeleted());
    link.in.request(1);
    link.in.expectComplete();
    assertTrue(driver.deleted.contains(sandbox.getId()));
  }

  // --- the supervisor credential (issue #8, UPSTREAM §B 12 IMPROVE) ------------------------------

  @Test
  void helloWithoutACredentialIsUnauthenticatedAndTheSandboxStaysProvisioning() throws Exception {
    Sandbox sandbox = create("credential-missing");
    SupervisorLink link = SupervisorLink.open(gateway.client, gateway.system);
    link.send(SupervisorLink.hello(sandbox.getId()));
    Status status = rejection(link);
    assertEquals(Status.Code.UNAUTHENTICATED, status.getCode());
    assertEquals("no sandbox credential: send the credential the compute driver gave this sandbox's supervisor in the "
        + "x-sandbox-credential metadata", status.getDescription());
    assertEquals(SandboxPhase.SANDBOX_PHASE_PROVISIONING, get("credential-missing").getPhase());
  }

  @Test
  void helloWithAnotherSandboxsCredentialIsPermissionDeniedAndTheRightOneIsAccepted() throws Exception {
    Sandbox a = create("credential-a");
    Sandbox b = create("credential-b");
    SupervisorLink asB = SupervisorLink.open(gateway.client, gateway.system, gateway.credential(b.getId()));
    asB.send(SupervisorLink.hello(a.getId()));
    Status status = rejection(asB);
    assertEquals(Status.Code.PERMISSION_DENIED, status.getCode());
    assertEquals("the presented sandbox credential is not sandbox " + a.getId()
        + "'s: a supervisor may only speak for its own sandbox", status.getDescription());
    SupervisorLink garbage = SupervisorLink.open(gateway.client, gateway.system, "not-a-credential");
    garbage.send(SupervisorLink.hello(a.getId()));
    assertEquals(Status.Code.PERMISSION_DENIED, rejection(garbage).getCode());
    assertEquals(SandboxPhase.SANDBOX_PHASE_PROVISIONING, get("credential-a").getPhase());

    SupervisorLink own = SupervisorLink.open(gateway.client, gateway.system, gateway.credential(a.getId()));
    own.send(SupervisorLink.hello(a.getId()));
    accepted(own);
    assertEquals(SandboxPhase.SANDBOX_PHASE_READY, get("credential-a").getPhase());
    own.out.complete();
  }

  @Test
  void anUnknownSandboxIsNotFoundWhateverCredentialIsPresented() {
    Status status;
    SupervisorLink link = SupervisorLink.open(gateway.client, gateway.system, "some-credential");
    link.send(SupervisorLink.hello("00000000-0000-4000-8000-000000000001"));
    status = rejection(link);
    assertEquals(Status.Code.NOT_FOUND, status.getCode());
    assertEquals("sandbox not found", status.getDescription());
  }

  @Test
  void theCredentialNeverAppearsInPublicAnswers() throws Exception {
    Sandbox created = create("credential-hidden");
    String credential = gateway.credential(created.getId());
    assertEquals(43, credential.length(), "32 random bytes, base64url without padding");
    assertTrue(credential.matches("[A-Za-z0-9_-]{43}"), credential.length() + " characters of base64url");
    assertFalse(created.toString().contains(credential));
    assertFalse(get("credential-hidden").toString().contains(credential));
    assertFalse(gateway.client.listSandboxes(ListSandboxesRequest.getDefaultInstance()).toCompletableFuture()
        .get(30, TimeUnit.SECONDS).toString().contains(credential));
    SandboxStreamEvent watched = gateway.client.watchSandbox(WatchSandboxRequest.newBuilder().setId(created.getId())
            .setStopOnTerminal(true).build())
        .take(1).runWith(org.apache.pekko.stream.javadsl.Sink.head(), gateway.system).toCompletableFuture().get(30, TimeUnit.SECONDS);
    assertTrue(watched.hasSandbox());
    assertFalse(watched.toString().contains(credential));
  }

  @Test
  void withTheCredentialRequirementOffAHelloWithoutOneIsAccepted() throws Exception {
    Path state = Files.createTempDirectory("connect-supervisor-no-credential");
    try (TestGateway open = TestGateway.start("sqlite::memory:", state, new AcceptingDriver(),
        "openshell.gateway.sandbox.require-supervisor-credential = off")) {
      Sandbox sandbox = open.client.createSandbox(CreateSandboxRequest.newBuilder()
          .setSpec(SandboxSpec.getDefaultInstance()).setName("credential-off").build()).toCompletableFuture().get(30, TimeUnit.SECONDS)
          .getSandbox();
      SupervisorLink link = SupervisorLink.open(open.client, open.system);
      link.send(SupervisorLink.hello(sandbox.getId()));
      link.in.request(1);
      assertTrue(link.in.expectNext(TestGateway.patience()).hasSessionAccepted());
      link.out.complete();
    }
  }
}
