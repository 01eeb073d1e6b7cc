package io.openshell.it;

import io.openshell.protocol.v1.*;
import io.openshell.supervisor.relay.RelayBridge;
import io.openshell.supervisor.relay.RelayFrameMarshaller;
import java.nio.file.Path;
import java.util.UUID;
import org.apache.pekko.actor.typed.ActorRef;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.actor.typed.Props;
import org.apache.pekko.actor.typed.javadsl.Behaviors;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.SourceQueueWithComplete;

/**
 * A supervisor session driven by the test whose relays are the real {@link RelayBridge} actors: it
 * answers Hello, spawns a bridge per RelayOpen and reports their failures as RelayOpenResult.
 */
final class BridgingSupervisor implements AutoCloseable {
  private final SourceQueueWithComplete<SupervisorMessage> control;
  private final org.apache.pekko.actor.Cancellable heartbeats;
  private final OpenShellClient client;

  /**
   * Dials the gateway on {@code port} with its own client that sends {@code credential} on every call
   * and encodes relay frames as the real supervisor's client does.
   */
  BridgingSupervisor(int port, ActorSystem<?> system, String sandboxId, String credential, Path sshSocket, int frameSize) {
    client = OpenShellClient.create(org.apache.pekko.grpc.GrpcClientSettings.connectToServiceAt("127.0.0.1", port, system)
        .withTls(false)
        .withChannelBuilderOverrides(builder -> builder
            // The real supervisor's relay marshaller (the bytes on the wire are the same without it).
            .intercept(RelayFrameMarshaller.interceptor(
                io.grpc.MethodDescriptor.generateFullMethodName(OpenShell.name, "RelayStream")))
            .intercept(io.openshell.supervisor.session.GatewaySession.credentialHeader(credential))), system);
    var outbound = Source.<SupervisorMessage>queue(64, OverflowStrategy.backpressure()).preMaterialize(system);
    control = outbound.first();
    ActorRef<RelayBridge.Report> reports = system.systemActorOf(Behaviors.receiveMessage(report -> {
      if (report instanceof RelayBridge.OpenFailed failed) {
        control.offer(SupervisorMessage.newBuilder().setRelayOpenResult(RelayOpenResult.newBuilder()
            .setChannelId(failed.channelId()).setSuccess(false).setError(failed.error())).build());
      }
      return Behaviors.same();
    }), "bridge-reports-" + UUID.randomUUID(), Props.empty());
    control.offer(SupervisorMessage.newBuilder().setHello(SupervisorHello.newBuilder().setSandboxId(sandboxId)).build());
    // Heartbeats as the real supervisor sends them: a busy machine may take longer than the gateway's
    // dead-peer window (3 heartbeat periods) to run a test, and a silent session would be dropped.
    SupervisorMessage heartbeat = SupervisorMessage.newBuilder().setHeartbeat(SupervisorHeartbeat.getDefaultInstance()).build();
    heartbeats = Source.tick(java.time.Duration.ofSeconds(5), java.time.Duration.ofSeconds(5), heartbeat)
        .toMat(Sink.foreach(control::offer), org.apache.pekko.stream.javadsl.Keep.left()).run(system);
    client.connectSupervisor(outbound.second()).runWith(Sink.foreach(message -> {
      if (message.hasRelayOpen()) {
        String channelId = message.getRelayOpen().getChannelId();
        system.systemActorOf(RelayBridge.create(client, channelId, sshSocket, frameSize, 256 * 1024, reports),
            "bridge-" + channelId, Props.empty());
      }
    }), system);
  }

  @Override
  public void close() {
    heartbeats.cancel();
    control.complete();
    client.close();
  }
}
