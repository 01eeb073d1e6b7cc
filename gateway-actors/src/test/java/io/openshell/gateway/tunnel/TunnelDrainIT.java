package io.openshell.gateway.tunnel;

import static org.junit.jupiter.api.Assertions.*;

import io.openshell.gateway.AcceptingDriver;
import io.openshell.gateway.TestGateway;
import io.openshell.gateway.relay.EchoSupervisor;
import io.openshell.protocol.v1.*;
import java.io.IOException;
import java.net.ConnectException;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.apache.pekko.Done;
import org.apache.pekko.actor.CoordinatedShutdown;
import org.apache.pekko.actor.testkit.typed.javadsl.TestProbe;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.grpc.GrpcClientSettings;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

/**
 * Graceful leave for tunnels, at the drain bound: a gateway whose coordinated shutdown runs (what
 * SIGTERM does) stops accepting tunnels, lets the open CONNECT and WebSocket tunnels carry bytes, and
 * closes those still open when the bound passes, not before. The supervisor is an echoing test
 * supervisor in its own actor system (as a real one is in its own process). That tunnels finish on
 * their own while the node leaves is it/…/ClusterTunnelDrainIT's: here the supervisor's own session on
 * the main port holds the node for the bound anyway.
 */
class TunnelDrainIT {
  private TestGateway gateway;
  private ActorSystem<Void> supervisorSide;
  private OpenShellClient supervisorClient;
  private EchoSupervisor supervisor;

  @AfterEach
  void stop() throws Exception {
    if (supervisor != null) supervisor.close();
    if (supervisorClient != null) supervisorClient.close().toCompletableFuture().get(10, TimeUnit.SECONDS);
    if (supervisorSide != null) {
      supervisorSide.terminate();
      supervisorSide.getWhenTerminated().toCompletableFuture().get(30, TimeUnit.SECONDS);
    }
    // The gateway's system terminated with its coordinated shutdown; only the database remains.
    if (gateway != null) gateway.close();
  }

  /** A gateway with the given drain bound and one READY sandbox; returns the sandbox's SSH token. */
  private String gatewayWithDrain(Duration drain, String sandboxId) throws Exception {
    // TestGateway does not take the cluster config Main derives, so the phase outlasting the drain is set here.
    gateway = TestGateway.start("sqlite::memory:", Files.createTempDirectory("tunnel-drain"), new AcceptingDriver(),
        "openshell.gateway.cluster.drain-timeout = " + drain.toMillis() + "ms\n"
            + "pekko.coordinated-shutdown.phases.service-requests-done.timeout = " + drain.plusSeconds(5).toMillis() + "ms");
    String id = gateway.client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance())
        .setName(sandboxId).build()).toCompletableFuture().get(30, TimeUnit.SECONDS).getSandbox().getId();
    supervisorSide = ActorSystem.create(Behaviors.empty(), "supervisor-side");
    supervisorClient = OpenShellClient.create(
        GrpcClientSettings.connectToServiceAt("127.0.0.1", gateway.running.port(), supervisorSide).withTls(false), supervisorSide);
    supervisor = new EchoSupervisor(supervisorClient, supervisorSide, id, gateway.credential(id), EchoSupervisor.Mode.ECHO);
    gateway.awaitReady(sandboxId);
    this.sandboxId = id;
    return gateway.client.createSshSession(CreateSshSessionRequest.newBuilder().setSandboxId(id).build())
        .toCompletableFuture().get(30, TimeUnit.SECONDS).getToken();
  }

  private String sandboxId;

  private ConnectClient connectTunnel(String token) throws IOException {
    ConnectClient client = new ConnectClient(gateway.running.sshTunnelAddress());
    client.send(ConnectClient.connectHead(sandboxId, token));
    assertEquals(200, client.status(), client.responseHead());
    return client;
  }

  private static void echoes(ConnectClient client, String text) throws IOException {
    client.send(text);
    assertEquals(text, new String(client.read(text.length()), StandardCharsets.UTF_8), "the CONNECT tunnel echoes");
  }

  private CompletableFuture<Done> sigterm() {
    // What the JVM's SIGTERM hook runs.
    return CoordinatedShutdown.get(gateway.system).runAll(CoordinatedShutdown.jvmExitReason()).toCompletableFuture();
  }

  private void awaitNewTunnelsRefused(String token) {
    InetSocketAddress tunnel = gateway.running.sshTunnelAddress();
    TestProbe.create(supervisorSide).awaitAssert(Duration.ofSeconds(30), () -> {
      assertThrows(ConnectException.class, () -> {
        try (Socket socket = new Socket()) {
          socket.connect(tunnel, 2_000);
        }
      }, "the CONNECT listener no longer accepts");
      return null;
    });
    TestProbe.create(supervisorSide).awaitAssert(Duration.ofSeconds(30), () -> {
      var attempt = WebSocketTunnelClient.open(gateway.running.port(), sandboxId, token);
      Exception refused = assertThrows(Exception.class, () -> attempt.get(20, TimeUnit.SECONDS),
          "a new WebSocket tunnel is refused");
      assertFalse(refused instanceof TimeoutException, String.valueOf(refused));
      return null;
    });
  }

  @Test
  void tunnelsStillOpenAtTheDrainBoundAreClosedByTheGatewayNotBefore() throws Exception {
    Duration bound = Duration.ofSeconds(8);
    String token = gatewayWithDrain(bound, "drain-bound");
    ConnectClient connect = connectTunnel(token);
    WebSocketTunnelClient ws = WebSocketTunnelClient.open(gateway.running.port(), sandboxId, token).get(30, TimeUnit.SECONDS);
    ws.echoes("before-sigterm");

    long sigtermAt = System.nanoTime();
    CompletableFuture<Done> shutdown = sigterm();
    echoes(connect, "after-sigterm");
    ws.echoes("after-sigterm");
    awaitNewTunnelsRefused(token);

    // The client never closes: the gateway does, at the bound (the socket read returns end of stream).
    assertEquals("", connect.readToEnd(), "nothing but the close arrives");
    long connectClosedMs = (System.nanoTime() - sigtermAt) / 1_000_000;
    String wsEnd = ws.closed.get(60, TimeUnit.SECONDS);
    long wsClosedMs = (System.nanoTime() - sigtermAt) / 1_000_000;
    assertTrue(connectClosedMs >= bound.toMillis(), "CONNECT tunnel closed after " + connectClosedMs + " ms, before the bound");
    assertTrue(wsClosedMs >= bound.toMillis(), "WebSocket tunnel " + wsEnd + " after " + wsClosedMs + " ms, before the bound");
    shutdown.get(60, TimeUnit.SECONDS);
    connect.close();
  }
}
