package io.openshell.gateway.api;

import static org.junit.jupiter.api.Assertions.*;

import io.grpc.Status;
import io.openshell.gateway.AcceptingDriver;
import io.openshell.gateway.TestGateway;
import io.openshell.gateway.relay.EchoSupervisor;
import io.openshell.gateway.ssh.SshSessionContract;
import io.openshell.gateway.tunnel.ConnectClient;
import io.openshell.protocol.v1.*;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.junit.jupiter.api.Test;

/** CreateSshSession / RevokeSshSession (UPSTREAM §B 41–43, 60) and their persistence across a restart. */
class SshSessionApiIT {

  private static <T> T await(CompletionStage<T> stage) throws Exception {
    return stage.toCompletableFuture().get(60, TimeUnit.SECONDS);
  }

  private static Status failure(CompletionStage<?> stage) {
    ExecutionException e = assertThrows(ExecutionException.class, () -> stage.toCompletableFuture().get(60, TimeUnit.SECONDS));
    return Status.fromThrowable(e.getCause());
  }

  private static String create(TestGateway gateway, String name) throws Exception {
    return await(gateway.client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance())
        .setName(name).build())).getSandbox().getId();
  }

  private static CompletionStage<CreateSshSessionResponse> session(TestGateway gateway, String sandboxId) {
    return gateway.client.createSshSession(CreateSshSessionRequest.newBuilder().setSandboxId(sandboxId).build());
  }

  private static boolean revoke(TestGateway gateway, String token) throws Exception {
    return await(gateway.client.revokeSshSession(RevokeSshSessionRequest.newBuilder().setToken(token).build())).getRevoked();
  }

  private static int connectStatus(InetSocketAddress tunnel, String sandboxId, String token) throws Exception {
    try (ConnectClient client = new ConnectClient(tunnel)) {
      client.send(ConnectClient.connectHead(sandboxId, token));
      int status = client.status();
      if (status == 200) {
        client.send("hello");
        assertArrayEquals("hello".getBytes(), client.read(5));
      }
      return status;
    }
  }

  @Test
  void createAndRevokeAnswerAsUpstream() throws Exception {
    Path state = Files.createTempDirectory("ssh-session-api-it");
    try (TestGateway gateway = TestGateway.start("sqlite::memory:", state, new AcceptingDriver(), "")) {
      Status empty = failure(session(gateway, ""));
      assertEquals(Status.Code.INVALID_ARGUMENT, empty.getCode());
      assertEquals("sandbox_id is required", empty.getDescription());

      assertEquals(Status.Code.NOT_FOUND, failure(session(gateway, UUID.randomUUID().toString())).getCode());

      String id = create(gateway, "ssh-api");
      Status notReady = failure(session(gateway, id));
      assertEquals(Status.Code.FAILED_PRECONDITION, notReady.getCode());
      assertEquals("sandbox is not ready", notReady.getDescription());

      EchoSupervisor supervisor = new EchoSupervisor(gateway.client, gateway.system, id, gateway.credential(id), EchoSupervisor.Mode.ECHO);
      gateway.awaitReady("ssh-api");
      long before = System.currentTimeMillis();
      CreateSshSessionResponse response = await(session(gateway, id));
      assertEquals(id, response.getSandboxId());
      assertEquals(4, UUID.fromString(response.getToken()).version());
      assertEquals("127.0.0.1", response.getGatewayHost());
      assertEquals(gateway.running.sshTunnelAddress().getPort(), response.getGatewayPort());
      assertEquals("http", response.getGatewayScheme());
      assertEquals("/connect/ssh", response.getConnectPath());
      long ttl = Duration.ofSeconds(86400).toMillis();
      assertTrue(response.getExpiresAtMs() >= before + ttl && response.getExpiresAtMs() <= System.currentTimeMillis() + ttl,
          "expires 86400 s after creation: " + response.getExpiresAtMs());
      assertEquals(List.of(), SshSessionContract.violations(response.getSandboxId(), response.getToken(),
          response.getGatewayHost(), response.getGatewayPort(), response.getGatewayScheme(), response.getConnectPath()));
      assertEquals(200, connectStatus(new InetSocketAddress(response.getGatewayHost(), response.getGatewayPort()),
          id, response.getToken()), "the response leads to a working tunnel");

      Status noToken = failure(gateway.client.revokeSshSession(RevokeSshSessionRequest.getDefaultInstance()));
      assertEquals(Status.Code.INVALID_ARGUMENT, noToken.getCode());
      assertEquals("token is required", noToken.getDescription());
      assertFalse(revoke(gateway, UUID.randomUUID().toString()), "unknown tokens are not revoked");
      assertTrue(revoke(gateway, response.getToken()));
      assertEquals(401, connectStatus(gateway.running.sshTunnelAddress(), id, response.getToken()));

      String kept = await(session(gateway, id)).getToken();
      await(gateway.client.deleteSandbox(DeleteSandboxRequest.newBuilder().setName("ssh-api").build()));
      TestProbe.create(gateway.system).awaitAssert(Duration.ofSeconds(10), () -> {
        assertFalse(revoke(gateway, kept), "the sandbox's sessions were deleted with it");
        return null;
      });
      supervisor.close();
    }
  }

  @Test
  void aZeroTtlGivesSessionsWithoutExpiry() throws Exception {
    Path state = Files.createTempDirectory("ssh-session-ttl-it");
    try (TestGateway gateway = TestGateway.start("sqlite::memory:", state, new AcceptingDriver(),
        "openshell.gateway.ssh-session.ttl = 0s")) {
      String id = create(gateway, "ssh-forever");
      EchoSupervisor supervisor = new EchoSupervisor(gateway.client, gateway.system, id, gateway.credential(id), EchoSupervisor.Mode.ECHO);
      gateway.awaitReady("ssh-forever");
      assertEquals(0, await(session(gateway, id)).getExpiresAtMs());
      supervisor.close();
    }
  }

  @Test
  void sessionsAndRevocationsSurviveAGatewayRestart() throws Exception {
    Path state = Files.createTempDirectory("ssh-session-restart");
    String db = "sqlite:" + state.resolve("ssh.db");
    String id;
    String kept;
    String revoked;
    try (TestGateway gateway = TestGateway.start(db, state, new AcceptingDriver(), "")) {
      id = create(gateway, "ssh-durable");
      EchoSupervisor supervisor = new EchoSupervisor(gateway.client, gateway.system, id, gateway.credential(id), EchoSupervisor.Mode.ECHO);
      gateway.awaitReady("ssh-durable");
      kept = await(session(gateway, id)).getToken();
      revoked = await(session(gateway, id)).getToken();
      assertTrue(revoke(gateway, revoked));
      supervisor.close();
    }
    try (TestGateway gateway = TestGateway.start(db, state, new AcceptingDriver(), "")) {
      EchoSupervisor supervisor = new EchoSupervisor(gateway.client, gateway.system, id, gateway.credential(id), EchoSupervisor.Mode.ECHO);
      gateway.awaitReady("ssh-durable");
      assertEquals(200, connectStatus(gateway.running.sshTunnelAddress(), id, kept), "the token still opens a tunnel");
      assertEquals(401, connectStatus(gateway.running.sshTunnelAddress(), id, revoked), "the revocation was kept");
      assertTrue(revoke(gateway, kept));
      assertEquals(401, connectStatus(gateway.running.sshTunnelAddress(), id, kept));
      supervisor.close();
    }
  }
}
