package io.openshell.gateway.api;

import static org.junit.jupiter.api.Assertions.*;

import io.grpc.Status;
import io.openshell.gateway.AcceptingDriver;
import io.openshell.gateway.TestGateway;
import io.openshell.protocol.v1.*;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.junit.jupiter.api.Test;

/** The sandbox API (UPSTREAM §B 57–61) and persistence across a gateway restart, on real SQLite files. */
class SandboxApiIT {

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static Status failure(CompletionStage<?> stage) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> stage.toCompletableFuture().get(60, TimeUnit.SECONDS));
    return Status.fromThrowable(e.getCause());
  }

  private static CreateSandboxRequest named(String name) {
    return CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance()).setName(name).build();
  }

  @Test
  void validationAndNamingFollowUpstream() throws Exception {
    Path state = Files.createTempDirectory("sandbox-api-it");
    try (TestGateway gateway = TestGateway.start("sqlite::memory:", state, new AcceptingDriver(), "")) {
      var client = gateway.client;
      HealthResponse health = await(client.health(HealthRequest.getDefaultInstance()));
      assertEquals(ServiceStatus.SERVICE_STATUS_HEALTHY, health.getStatus());
      assertFalse(health.getVersion().isEmpty());

      Status noSpec = failure(client.createSandbox(CreateSandboxRequest.newBuilder().setName("x").build()));
      assertEquals(Status.Code.INVALID_ARGUMENT, noSpec.getCode());
      assertEquals("spec is required", noSpec.getDescription());

      Sandbox generated = await(client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance()).build())).getSandbox();
      assertTrue(generated.getName().matches("[a-z]+-[a-z]+"), generated.getName());
      assertTrue(generated.getId().matches("[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}"));
      assertEquals(SandboxPhase.SANDBOX_PHASE_PROVISIONING, generated.getPhase());
      assertTrue(generated.getCreatedAtMs() > 0);

      await(client.createSandbox(named("dup")));
      Status duplicate = failure(client.createSandbox(named("dup")));
      assertEquals(Status.Code.ALREADY_EXISTS, duplicate.getCode());
      assertEquals("sandbox 'dup' already exists", duplicate.getDescription());

      Status badName = failure(client.createSandbox(named("has space")));
      assertEquals(Status.Code.INVALID_ARGUMENT, badName.getCode());

      Status gpu = failure(client.createSandbox(CreateSandboxRequest.newBuilder()
          .setSpec(SandboxSpec.newBuilder().setGpu(true)).setName("gpu").build()));
      assertEquals(Status.Code.FAILED_PRECONDITION, gpu.getCode());
      // The refused create was rolled back: the name is free again and nothing is listed.
      Status gpuGone = failure(client.getSandbox(GetSandboxRequest.newBuilder().setName("gpu").build()));
      assertEquals(Status.Code.NOT_FOUND, gpuGone.getCode());

      Status emptyGet = failure(client.getSandbox(GetSandboxRequest.getDefaultInstance()));
      assertEquals(Status.Code.INVALID_ARGUMENT, emptyGet.getCode());
      Status missing = failure(client.getSandbox(GetSandboxRequest.newBuilder().setName("nope").build()));
      assertEquals(Status.Code.NOT_FOUND, missing.getCode());
      Status emptyDelete = failure(client.deleteSandbox(DeleteSandboxRequest.getDefaultInstance()));
      assertEquals(Status.Code.INVALID_ARGUMENT, emptyDelete.getCode());
      Status missingDelete = failure(client.deleteSandbox(DeleteSandboxRequest.newBuilder().setName("nope").build()));
      assertEquals(Status.Code.NOT_FOUND, missingDelete.getCode());

      List<String> names = await(client.listSandboxes(ListSandboxesRequest.getDefaultInstance()))
          .getSandboxesList().stream().map(Sandbox::getName).toList();
      assertEquals(List.of(generated.getName(), "dup"), names);
      assertEquals(List.of("dup"), await(client.listSandboxes(ListSandboxesRequest.newBuilder().setOffset(1).build()))
          .getSandboxesList().stream().map(Sandbox::getName).toList());
      assertEquals(1, await(client.listSandboxes(ListSandboxesRequest.newBuilder().setLimit(1).build())).getSandboxesCount());

      assertTrue(await(client.deleteSandbox(DeleteSandboxRequest.newBuilder().setName("dup").build())).getDeleted());
      assertEquals(List.of(generated.getName()), await(client.listSandboxes(ListSandboxesRequest.getDefaultInstance()))
          .getSandboxesList().stream().map(Sandbox::getName).toList());
      // A deleted name can be used again.
      await(client.createSandbox(named("dup")));
    }
  }

  @Test
  void healthzAnswersAndReadyzIsReadyWhilePersistenceAnswers() throws Exception {
    Path state = Files.createTempDirectory("sandbox-api-http");
    try (TestGateway gateway = TestGateway.start("sqlite:" + state.resolve("http.db"), state, new AcceptingDriver(), "")) {
      var http = java.net.http.HttpClient.newHttpClient();
      String base = "http://127.0.0.1:" + gateway.running.port();
      var healthz = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/healthz")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(200, healthz.statusCode());
      var readyz = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/readyz")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(200, readyz.statusCode());
      assertEquals("ready\n", readyz.body());
      // The database file goes away: a fresh connection finds no journal, so /readyz must say not ready.
      Files.delete(state.resolve("http.db"));
      var notReady = http.send(java.net.http.HttpRequest.newBuilder(java.net.URI.create(base + "/readyz")).build(),
          java.net.http.HttpResponse.BodyHandlers.ofString());
      assertEquals(503, notReady.statusCode(), notReady.body());
      assertEquals("database is not answering\n", notReady.body());
    }
  }

  @Test
  void listHonoursTheDefaultAndMaximumLimits() throws Exception {
    Path state = Files.createTempDirectory("sandbox-api-list");
    try (TestGateway gateway = TestGateway.start("sqlite::memory:", state, new AcceptingDriver(),
        "openshell.gateway.sandbox { list-default-limit = 3, list-max-limit = 5 }")) {
      List<CompletableFuture<SandboxResponse>> creates = new ArrayList<>();
      for (int i = 0; i < 7; i++) creates.add(gateway.client.createSandbox(named("list-" + i)).toCompletableFuture());
      for (var create : creates) await(create);
      assertEquals(3, await(gateway.client.listSandboxes(ListSandboxesRequest.getDefaultInstance())).getSandboxesCount());
      assertEquals(5, await(gateway.client.listSandboxes(ListSandboxesRequest.newBuilder().setLimit(100).build())).getSandboxesCount());
      assertEquals(2, await(gateway.client.listSandboxes(ListSandboxesRequest.newBuilder().setLimit(5).setOffset(5).build())).getSandboxesCount());
    }
  }

  @Test
  void twentyConcurrentCreatesOfOneNameAdmitExactlyOne() throws Exception {
    Path state = Files.createTempDirectory("sandbox-api-race");
    AcceptingDriver driver = new AcceptingDriver();
    try (TestGateway gateway = TestGateway.start("sqlite:" + state.resolve("race.db"), state, driver, "")) {
      List<CompletableFuture<SandboxResponse>> creates = new ArrayList<>();
      for (int i = 0; i < 20; i++) creates.add(gateway.client.createSandbox(named("contested")).toCompletableFuture());
      int won = 0;
      int alreadyExists = 0;
      for (var create : creates) {
        try {
          create.get(60, TimeUnit.SECONDS);
          won++;
        } catch (ExecutionException e) {
          Status status = Status.fromThrowable(e.getCause());
          assertEquals(Status.Code.ALREADY_EXISTS, status.getCode(), status.toString());
          assertEquals("sandbox 'contested' already exists", status.getDescription());
          alreadyExists++;
        }
      }
      assertEquals(1, won);
      assertEquals(19, alreadyExists);
      assertEquals(1, driver.created.size());
      assertEquals(1, await(gateway.client.listSandboxes(ListSandboxesRequest.getDefaultInstance())).getSandboxesCount());
    }
  }

  @Test
  void watchSendsTheSnapshotFirstThenUpdatesAndStopsOnTerminal() throws Exception {
    Path state = Files.createTempDirectory("sandbox-api-watch");
    try (TestGateway gateway = TestGateway.start("sqlite::memory:", state, new AcceptingDriver(), "")) {
      Sandbox sandbox = await(gateway.client.createSandbox(named("watched"))).getSandbox();
      TestSubscriber.Probe<SandboxStreamEvent> watch = gateway.client.watchSandbox(WatchSandboxRequest.newBuilder()
              .setId(sandbox.getId()).setFollowStatus(true).setStopOnTerminal(true).build())
          .runWith(TestSink.create(gateway.system), gateway.system);
      watch.request(10);
      assertEquals(SandboxPhase.SANDBOX_PHASE_PROVISIONING, watch.expectNext(Duration.ofSeconds(20)).getSandbox().getPhase());

      SupervisorLink link = SupervisorLink.open(gateway.client, gateway.system, gateway.credential(sandbox.getId()));
      link.send(SupervisorLink.hello(sandbox.getId()));
      assertEquals(SandboxPhase.SANDBOX_PHASE_READY, watch.expectNext(Duration.ofSeconds(20)).getSandbox().getPhase());
      watch.expectComplete();
      link.out.complete();

      Status unknown = Status.fromThrowable(gateway.client.watchSandbox(WatchSandboxRequest.newBuilder()
              .setId("00000000-0000-4000-8000-000000000000").build())
          .runWith(TestSink.create(gateway.system), gateway.system).request(1).expectError());
      assertEquals(Status.Code.NOT_FOUND, unknown.getCode());
    }
  }

  @Test
  void sandboxesSurviveAGatewayRestartWithoutDuplicatesAndAreNotReadyUntilTheirSupervisorReturns() throws Exception {
    Path state = Files.createTempDirectory("sandbox-api-restart");
    String db = "sqlite:" + state.resolve("restart.db");
    String id;
    try (TestGateway gateway = TestGateway.start(db, state, new AcceptingDriver(), "")) {
      id = await(gateway.client.createSandbox(named("durable"))).getSandbox().getId();
      await(gateway.client.createSandbox(named("other")));
      SupervisorLink link = SupervisorLink.open(gateway.client, gateway.system, gateway.credential(id));
      link.send(SupervisorLink.hello(id));
      link.in.request(1);
      assertTrue(link.in.expectNext(Duration.ofSeconds(20)).hasSessionAccepted());
      assertEquals(SandboxPhase.SANDBOX_PHASE_READY,
          await(gateway.client.getSandbox(GetSandboxRequest.newBuilder().setName("durable").build())).getSandbox().getPhase());
    }
    AcceptingDriver restartedDriver = new AcceptingDriver();
    try (TestGateway gateway = TestGateway.start(db, state, restartedDriver, "")) {
      List<Sandbox> listed = await(gateway.client.listSandboxes(ListSandboxesRequest.getDefaultInstance())).getSandboxesList();
      assertEquals(List.of("durable", "other"), listed.stream().map(Sandbox::getName).toList());
      Sandbox durable = await(gateway.client.getSandbox(GetSandboxRequest.newBuilder().setName("durable").build())).getSandbox();
      assertEquals(id, durable.getId());
      assertEquals(SandboxPhase.SANDBOX_PHASE_PROVISIONING, durable.getPhase());
      assertEquals("DependenciesNotReady", durable.getStatus().getConditions(0).getReason());
      // The driver is asked to run every surviving sandbox again.
      org.apache.pekko.actor.testkit.typed.javadsl.TestProbe.create(gateway.system).awaitAssert(Duration.ofSeconds(20), () -> {
        assertEquals(2, restartedDriver.created.size());
        return null;
      });
      Status duplicate = failure(gateway.client.createSandbox(named("durable")));
      assertEquals(Status.Code.ALREADY_EXISTS, duplicate.getCode());

      SupervisorLink link = SupervisorLink.open(gateway.client, gateway.system, gateway.credential(id));
      link.send(SupervisorLink.hello(id));
      link.in.request(1);
      assertTrue(link.in.expectNext(Duration.ofSeconds(20)).hasSessionAccepted());
      assertEquals(SandboxPhase.SANDBOX_PHASE_READY,
          await(gateway.client.getSandbox(GetSandboxRequest.newBuilder().setName("durable").build())).getSandbox().getPhase());
      link.out.complete();
    }
  }

  @Test
  void aSilentSupervisorIsDeclaredDeadAfterThreeMissedHeartbeats() throws Exception {
    Path state = Files.createTempDirectory("sandbox-api-dead");
    try (TestGateway gateway = TestGateway.start("sqlite::memory:", state, new AcceptingDriver(),
        "openshell.gateway.supervisor-session.heartbeat-interval = 1s")) {
      Sandbox sandbox = await(gateway.client.createSandbox(named("silent"))).getSandbox();
      SupervisorLink link = SupervisorLink.open(gateway.client, gateway.system, gateway.credential(sandbox.getId()));
      link.send(SupervisorLink.hello(sandbox.getId()));
      link.in.request(100);
      SessionAccepted accepted = link.in.expectNext(Duration.ofSeconds(20)).getSessionAccepted();
      assertEquals(1, accepted.getHeartbeatIntervalSecs());
      assertTrue(link.in.expectNext(Duration.ofSeconds(5)).hasHeartbeat(), "gateway heartbeats at the interval");
      // The supervisor now says nothing: after 3 intervals (checked each interval) the stream ends.
      link.in.expectNextOrComplete();
      TestSubscriberDrain.untilComplete(link.in, Duration.ofSeconds(10));
      assertEquals(SandboxPhase.SANDBOX_PHASE_PROVISIONING,
          await(gateway.client.getSandbox(GetSandboxRequest.newBuilder().setName("silent").build())).getSandbox().getPhase());
    }
  }
}
