package io.openshell.it;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.gateway.relay.EchoSupervisor;
import io.openshell.gateway.tunnel.ConnectClient;
import io.openshell.gateway.tunnel.WebSocketTunnelClient;
import io.openshell.protocol.v1.*;
import java.net.ConnectException;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * Graceful leave of a node that carries tunnels but no supervisor: two gateway nodes in this JVM (the
 * real wiring, one PostgreSQL journal), the echoing test supervisor connected to node A, a CONNECT and
 * a WebSocket tunnel through node B. B gets what SIGTERM gives (coordinated shutdown): it stops
 * accepting tunnels, the open ones keep carrying bytes across nodes for as long as they last (B would
 * otherwise be gone in a few seconds), and once they end B leaves at once, well inside the bound.
 */
class ClusterTunnelDrainIT {
  private static final Duration DRAIN = Duration.ofSeconds(60);
  private static PostgresServer postgres;
  private static InJvmGatewayNode a;
  private static InJvmGatewayNode b;
  private static ActorSystem<Void> supervisorSide;
  private static OpenShellClient client;
  private static EchoSupervisor supervisor;

  @BeforeAll
  static void startTwoNodes() throws Exception {
    postgres = PostgresServer.forSuite("CLUSTER TUNNEL DRAIN");
    String dbUrl = postgres.createDatabase("openshell_drain").url();
    int portA = InJvmGatewayNode.freePort();
    int portB = InJvmGatewayNode.freePort();
    String seeds = "127.0.0.1:" + portA + ",127.0.0.1:" + portB;
    // The first seed forms the cluster on its own; B joins it. One at a time: both apply the journal
    // schema at start, and concurrent CREATE TABLE IF NOT EXISTS can collide in PostgreSQL's catalog.
    a = start(dbUrl, portA, seeds, "a");
    b = start(dbUrl, portB, seeds, "b");
    supervisorSide = ActorSystem.create(Behaviors.empty(), "supervisor-side");
    client = OpenShellClient.create(GrpcClientSettings.connectToServiceAt("127.0.0.1", a.running().port(), supervisorSide)
        .withTls(false), supervisorSide);
  }

  private static InJvmGatewayNode start(String dbUrl, int clusterPort, String seeds, String name) {
    try {
      return InJvmGatewayNode.start(dbUrl, clusterPort, seeds, name,
          "openshell.gateway.cluster.drain-timeout = " + DRAIN.toSeconds() + "s");
    } catch (Exception e) {
      throw new IllegalStateException("node " + name + " did not start", e);
    }
  }

  @AfterAll
  static void stop() throws Exception {
    if (supervisor != null) supervisor.close();
    if (client != null) client.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
    if (supervisorSide != null) supervisorSide.terminate();
    if (a != null) a.close();
    if (b != null) b.close();
    if (postgres != null) postgres.close();
  }

  @Test
  void tunnelsThroughALeavingNodeKeepCarryingBytesUntilTheyEndAndNewOnesAreRefused() throws Exception {
    String id = client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance())
        .setName("drain").build()).toCompletableFuture().get(60, TimeUnit.SECONDS).getSandbox().getId();
    supervisor = new EchoSupervisor(client, supervisorSide, id, InJvmGatewayNode.credential(id, a, b), EchoSupervisor.Mode.ECHO);
    Awaits.require(Duration.ofSeconds(60), "the sandbox READY", () -> {
      try {
        return client.getSandbox(GetSandboxRequest.newBuilder().setName("drain").build()).toCompletableFuture()
            .get(10, TimeUnit.SECONDS).getSandbox().getPhase() == SandboxPhase.SANDBOX_PHASE_READY;
      } catch (Exception e) {
        return false;
      }
    });
    String token = client.createSshSession(CreateSshSessionRequest.newBuilder().setSandboxId(id).build())
        .toCompletableFuture().get(30, TimeUnit.SECONDS).getToken();

    ConnectClient connect = new ConnectClient(b.running().sshTunnelAddress());
    connect.send(ConnectClient.connectHead(id, token));
    assertEquals(200, connect.status(), connect.responseHead());
    echoes(connect, "before-sigterm");
    WebSocketTunnelClient ws = WebSocketTunnelClient.open(b.running().port(), id, token).get(30, TimeUnit.SECONDS);
    ws.echoes("before-sigterm");

    long sigtermAt = System.nanoTime();
    CompletableFuture<Done> leaving = CoordinatedShutdown.get(b.system()).runAll(CoordinatedShutdown.jvmExitReason())
        .toCompletableFuture();
    Awaits.require(Duration.ofSeconds(30), "B's CONNECT listener refuses new tunnels", () -> {
      try (Socket socket = new Socket()) {
        socket.connect(b.running().sshTunnelAddress(), 2_000);
        return false;
      } catch (ConnectException refused) {
        return true;
      } catch (java.io.IOException other) {
        return false;
      }
    });
    var lateWebSocket = WebSocketTunnelClient.open(b.running().port(), id, token);
    Exception refused = assertThrows(Exception.class, () -> lateWebSocket.get(20, TimeUnit.SECONDS), "a new WebSocket tunnel on B");
    assertFalse(refused instanceof TimeoutException, String.valueOf(refused));

    // Without the drain B would have left by now (a node with no sandbox of its own exits ~2 s after SIGTERM).
    assertThrows(TimeoutException.class, () -> leaving.get(10, TimeUnit.SECONDS), "B waits for its open tunnels");
    echoes(connect, "after-sigterm");
    ws.echoes("after-sigterm");
    assertFalse(ws.closed.isDone(), "the WebSocket tunnel is still open: " + ws.closed.getNow(""));

    connect.close();
    ws.close();
    long endedMs = (System.nanoTime() - sigtermAt) / 1_000_000;
    // Far inside the 60 s bound: the drain ends when the last tunnel does, then B leaves.
    leaving.get(40, TimeUnit.SECONDS);
    long leftMs = (System.nanoTime() - sigtermAt) / 1_000_000;
    System.out.printf("node B: tunnels carried bytes %d ms past SIGTERM, then closed by the client; B left %d ms after SIGTERM"
        + " (bound %d s)%n", endedMs, leftMs, DRAIN.toSeconds());
    // The sandbox keeps working through A.
    ConnectClient again = new ConnectClient(a.running().sshTunnelAddress());
    again.send(ConnectClient.connectHead(id, token));
    assertEquals(200, again.status(), again.responseHead());
    echoes(again, "through-a");
    again.close();
  }

  private static void echoes(ConnectClient client, String text) throws Exception {
    client.send(text);
    assertEquals(text, new String(client.read(text.length()), StandardCharsets.UTF_8), "the CONNECT tunnel echoes");
  }
}
