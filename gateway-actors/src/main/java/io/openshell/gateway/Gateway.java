package io.openshell.gateway;

import io.openshell.gateway.api.GrpcHandler;
import io.openshell.gateway.api.GrpcLimits;
import io.openshell.gateway.api.HttpRoutes;
import io.openshell.gateway.api.OpenShellService;
import io.openshell.gateway.cluster.ClusterMembership;
import io.openshell.gateway.cluster.SandboxRelocation;
import io.openshell.gateway.compute.ComputeRuntime;
import io.openshell.gateway.exec.ExecRunner;
import io.openshell.gateway.exec.ExecSettings;
import io.openshell.gateway.logs.GatewayLogCapture;
import io.openshell.gateway.logs.LogSettings;
import io.openshell.gateway.logs.SandboxLogs;
import io.openshell.gateway.persistence.JournalSchema;
import io.openshell.gateway.relay.RelayBudget;
import io.openshell.gateway.relay.RelayDirectory;
import io.openshell.gateway.relay.RelayResponseCoalescing;
import io.openshell.gateway.relay.Relays;
import io.openshell.gateway.sandbox.Sandbox;
import io.openshell.gateway.sandbox.SandboxCatalog;
import io.openshell.gateway.sandbox.SandboxNames;
import io.openshell.gateway.sandbox.SandboxView;
import io.openshell.gateway.ssh.SshGatewayEndpoint;
import io.openshell.gateway.ssh.SshSessions;
import io.openshell.gateway.tunnel.SshTunnelServer;
import io.openshell.gateway.tunnel.TunnelAdmission;
import io.openshell.gateway.tunnel.TunnelDrain;
import io.openshell.gateway.tunnel.TunnelLeases;
import io.openshell.gateway.tls.GatewayTls;
import io.openshell.gateway.tls.UserAuthorization;
import io.openshell.gateway.tunnel.WebSocketTunnel;
import io.openshell.protocol.compute.v1.ComputeDriver;
import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.Executor;
import org.apache.pekko.japi.function.Function;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.DispatcherSelector;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.AskPattern;
import org.apache.pekko.actor.typed.pubsub.Topic;
import org.apache.pekko.grpc.javadsl.ServiceHandler;
import org.apache.pekko.http.javadsl.Http;
import org.apache.pekko.http.javadsl.ServerBinding;
import org.apache.pekko.http.javadsl.model.HttpRequest;
import org.apache.pekko.http.javadsl.model.HttpResponse;

/**
 * The gateway's wiring, separate from {@link Main} so tests start the real thing on free ports:
 * cluster membership, the sharded entities, the read model, the compute driver and the listeners.
 */
public final class Gateway {
  private Gateway() {}

  /**
   * What a started gateway exposes to its caller: the main and tunnel listeners, and (for tests and
   * operations) the relay plane, the tunnel's connection counters and the SSH session registry.
   */
  public record Running(InetSocketAddress address, ServerBinding binding, ServerBinding healthBinding, Relays relays,
      InetSocketAddress sshTunnelAddress, ActorRef<TunnelLeases.Command> tunnelLeases,
      ActorRef<SshSessions.Command> sshSessions) {
    public int port() {
      return address.getPort();
    }
  }

  /** Chooses the compute driver once the gateway knows the endpoint sandboxes must dial. */
  public interface DriverFactory {
    ComputeDriver create(ActorSystem<?> system, String grpcEndpoint);
  }

  /** Resolves TLS from the settings here (tests); {@link Main} resolves it first to report bad flags before starting. */
  public static CompletionStage<Running> init(ActorSystem<?> system, GatewaySettings settings, JournalSchema database,
      DriverFactory drivers) {
    GatewayTls tls;
    try {
      tls = GatewayTls.resolve(settings.tls(), settings.stateDir(), serverNames(settings));
    } catch (RuntimeException e) {
      return CompletableFuture.failedFuture(e);
    }
    return init(system, settings, tls, database, drivers);
  }

  public static CompletionStage<Running> init(ActorSystem<?> system, GatewaySettings settings, GatewayTls tls,
      JournalSchema database, DriverFactory drivers) {
    // A single node joins itself, so the one sharded code path also serves a cluster.
    return ClusterMembership.joinAndAwaitUp(system, settings.cluster())
        .thenCompose(up -> initMember(system, settings, tls, database, drivers));
  }

  /** Names beyond the local ones a local CA's server certificate must carry: the addresses this gateway is dialled at. */
  public static java.util.List<String> serverNames(GatewaySettings settings) {
    java.util.Set<String> names = new java.util.LinkedHashSet<>();
    for (String host : java.util.List.of(settings.host(), settings.tunnel().advertisedHost())) {
      if (!host.isEmpty() && !host.equals("0.0.0.0") && !host.equals("::")) names.add(host);
    }
    for (String url : settings.grpcEndpoint().split(",")) {
      if (url.isBlank()) continue;
      try {
        String host = java.net.URI.create(url.trim()).getHost();
        if (host != null) names.add(host.startsWith("[") ? host.substring(1, host.length() - 1) : host);
      } catch (IllegalArgumentException ignored) {
        // the driver reports a malformed endpoint
      }
    }
    return java.util.List.copyOf(names);
  }

  private static CompletionStage<Running> initMember(ActorSystem<?> system, GatewaySettings settings, GatewayTls tls,
      JournalSchema database, DriverFactory drivers) {
    ActorRef<Topic.Command<SandboxView>> views = system.systemActorOf(
        Topic.create(SandboxView.class, "sandbox-views"), "sandbox-views", Props.empty());
    ActorRef<SandboxCatalog.Command> catalog = system.systemActorOf(
        SandboxCatalog.create(views), "sandbox-catalog", Props.empty());
    SandboxNames.init(system);
    ActorRef<RelayDirectory.Command> relayDirectory = system.systemActorOf(RelayDirectory.create(), "relay-directory", Props.empty());
    ActorRef<RelayBudget.Command> relayBudget = system.systemActorOf(
        RelayBudget.create(settings.relays().maxPendingPerNode()), "relay-budget", Props.empty());
    Relays relays = new Relays(system, relayBudget, settings.relays());
    LogSettings logSettings = LogSettings.fromConfig(system.settings().config().getConfig("openshell.gateway"));
    ActorRef<SandboxLogs.Command> logs = system.systemActorOf(SandboxLogs.create(logSettings, views), "sandbox-logs", Props.empty());
    GatewayLogCapture.install(system, logs);

    Executor blocking = system.dispatchers().lookup(DispatcherSelector.fromConfig("openshell.blocking-dispatcher"));
    ExecRunner exec = ExecRunner.start(system, ExecSettings.fromConfig(system.settings().config().getConfig("openshell.gateway")), blocking);
    org.apache.pekko.actor.CoordinatedShutdown.get(system).addTask(
        org.apache.pekko.actor.CoordinatedShutdown.PhaseServiceStop(), "stop-exec-client", () -> {
          exec.close();
          return CompletableFuture.completedFuture(org.apache.pekko.Done.getInstance());
        });
    ActorRef<SshSessions.Command> sshSessions = SshSessions.init(system, settings.sshSessions());
    ActorRef<TunnelLeases.Command> tunnelLeases = system.systemActorOf(TunnelLeases.create(
        settings.tunnel().maxConnectionsPerToken(), settings.tunnel().maxConnectionsPerSandbox()), "tunnel-leases", Props.empty());
    TunnelAdmission admission = new TunnelAdmission(system,
        TunnelAdmission.clusterBackend(system, sshSessions, relays, settings.sandboxes().askTimeout()),
        tunnelLeases, settings.tunnel(), settings.sandboxes().askTimeout());
    ActorRef<TunnelDrain.Command> tunnelDrain = system.systemActorOf(TunnelDrain.create(), "tunnel-drain", Props.empty());
    // After the listeners stopped accepting (service-unbind), open tunnels get the drain bound to finish,
    // alongside the main port's open requests; the node's sandboxes stop only after that (service-stop).
    org.apache.pekko.actor.CoordinatedShutdown.get(system).addTask(
        org.apache.pekko.actor.CoordinatedShutdown.PhaseServiceRequestsDone(), "drain-tunnels",
        () -> AskPattern.<TunnelDrain.Command, org.apache.pekko.Done>ask(tunnelDrain,
            replyTo -> new TunnelDrain.Drain(settings.cluster().drainTimeout(), replyTo),
            settings.cluster().drainTimeout().plusSeconds(5), system.scheduler()));

    HttpRoutes httpRoutes = new HttpRoutes(database, blocking);
    // Requests that arrive in the moment between bind and the entities' init wait for the latter.
    CompletableFuture<Function<HttpRequest, CompletionStage<HttpResponse>>> handler = new CompletableFuture<>();
    var mainServer = Http.get(system).newServerAt(settings.host(), settings.port());
    if (tls.enabled()) mainServer = mainServer.enableHttps(tls.mainPort());
    CompletionStage<ServerBinding> main = mainServer
        .bind((Function<HttpRequest, CompletionStage<HttpResponse>>) request -> handler.thenCompose(h -> {
          try {
            return h.apply(request);
          } catch (Exception e) {
            return CompletableFuture.failedFuture(e);
          }
        }));
    CompletionStage<ServerBinding> health = settings.healthPort() > 0
        ? Http.get(system).newServerAt(settings.host(), settings.healthPort()).bind(httpRoutes.routes())
        : CompletableFuture.<ServerBinding>completedFuture(null);

    return main.thenCombine(health, (binding, healthBinding) -> {
      InetSocketAddress address = binding.localAddress();
      String endpoint = settings.grpcEndpoint().isEmpty()
          ? tls.scheme() + "://" + hostForUrl(settings.host()) + ":" + address.getPort()
          : settings.grpcEndpoint();
      ComputeDriver driver = drivers.create(system, endpoint);
      Sandbox.init(system, new Sandbox.Dependencies(driver, views, settings.sandboxes(),
          (name, sandboxId) -> SandboxNames.release(system, name, sandboxId), settings.relays(),
          sandboxId -> sshSessions.tell(new SshSessions.DeleteForSandbox(sandboxId))));
      ComputeRuntime.start(system, driver, catalog, logs);
      if (settings.cluster().clustered()) {
        system.systemActorOf(SandboxRelocation.create(catalog), "sandbox-relocation", Props.empty());
      }
      // On SIGTERM the listener stops accepting, then open calls (relays among them) get this long.
      binding.addToCoordinatedShutdown(settings.cluster().drainTimeout(), system);
      return new Bound(binding, healthBinding);
    }).thenCompose(bound -> SshTunnelServer.bind(system, admission, tunnelDrain,
        tls.enabled() ? java.util.Optional.of(tls.tunnelPort()) : java.util.Optional.empty()).thenApply(tunnel -> {
      // Tunnel connections may arrive from here on; the sandbox entities above are ready for them.
      InetSocketAddress tunnelAddress = tunnel.localAddress();
      system.log().info("SSH tunnel listening on {}:{} ({})", settings.tunnel().host(), tunnelAddress.getPort(),
          tls.enabled() ? "TLS" : "plaintext");
      org.apache.pekko.actor.CoordinatedShutdown.get(system).addTask(
          org.apache.pekko.actor.CoordinatedShutdown.PhaseServiceUnbind(), "unbind-ssh-tunnel",
          () -> tunnel.unbind().thenApply(unbound -> org.apache.pekko.Done.getInstance()));
      SshGatewayEndpoint sshEndpoint = new SshGatewayEndpoint(settings.tunnel().advertisedHost(), tunnelAddress.getPort(),
          tls.scheme(), settings.tunnel().connectPath());
      OpenShellService api = new OpenShellService(system, catalog, views, settings.sandboxes(), settings.sessions(),
          relayDirectory, settings.relays(), relays, exec, sshSessions, sshEndpoint, logs, logSettings);
      Function<HttpRequest, CompletionStage<HttpResponse>> service = GrpcHandler.create(api,
          GrpcLimits.fromConfig(system.settings().config().getConfig("openshell.gateway")),
          RelayResponseCoalescing.maxBytes(system.settings().config().getConfig("openshell.gateway")), system);
      // User RPCs need a user certificate; the check sits in front of the whole gRPC handler.
      Function<HttpRequest, CompletionStage<HttpResponse>> grpc = tls.userAuth() ? UserAuthorization.guard(service, system) : service;
      Function<HttpRequest, CompletionStage<HttpResponse>> http =
          httpRoutes.routes().orElse(new WebSocketTunnel(system, admission, tunnelDrain).route()).handler(system);
      @SuppressWarnings("unchecked")
      Function<HttpRequest, CompletionStage<HttpResponse>> both = ServiceHandler.concatOrNotFound(grpc, http);
      handler.complete(both);
      return new Running(bound.main().localAddress(), bound.main(), bound.health(), relays, tunnelAddress, tunnelLeases,
          sshSessions);
    }));
  }

  private record Bound(ServerBinding main, ServerBinding health) {}

  private static String hostForUrl(String host) {
    if (host.equals("0.0.0.0") || host.equals("::")) return "127.0.0.1";
    return host.contains(":") ? "[" + host + "]" : host;
  }
}
