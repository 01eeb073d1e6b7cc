package io.openshell.gateway.relay;

import io.openshell.gateway.sandbox.SupervisorCredential;
import io.openshell.protocol.v1.*;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.pekko.Done;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.SourceQueueWithComplete;

/**
 * The test playing a supervisor over real gRPC: Hello, then for every RelayOpen either a RelayStream
 * that echoes every byte back (with backpressure), a RelayOpenResult failure, or nothing at all.
 * Shared with the tunnel and SSH session suites.
 */
public final class EchoSupervisor {
  public enum Mode { ECHO, REFUSE, IGNORE }

  final ConcurrentLinkedQueue<String> opened = new ConcurrentLinkedQueue<>();
  final SourceQueueWithComplete<SupervisorMessage> control;
  final CompletionStage<Done> controlDone;

  /** {@code credential}: the sandbox's supervisor credential, sent on ConnectSupervisor and every RelayStream. */
  public EchoSupervisor(OpenShellClient client, ActorSystem<?> system, String sandboxId, String credential, Mode mode) {
    var outbound = Source.<SupervisorMessage>queue(64, OverflowStrategy.backpressure()).preMaterialize(system);
    control = outbound.first();
    control.offer(SupervisorMessage.newBuilder()
        .setHello(SupervisorHello.newBuilder().setSandboxId(sandboxId).setInstanceId("echo")).build());
    controlDone = client.connectSupervisor().addHeader(SupervisorCredential.METADATA_KEY, credential)
        .invoke(outbound.second()).runWith(Sink.foreach(message -> {
      if (message.hasHeartbeat()) {
        // Answered, so suites longer than the gateway's dead-peer window keep their session.
        control.offer(SupervisorMessage.newBuilder().setHeartbeat(SupervisorHeartbeat.getDefaultInstance()).build());
        return;
      }
      if (!message.hasRelayOpen()) return;
      String channelId = message.getRelayOpen().getChannelId();
      opened.add(channelId);
      switch (mode) {
        case ECHO -> echo(client, system, channelId, credential);
        case REFUSE -> control.offer(SupervisorMessage.newBuilder().setRelayOpenResult(RelayOpenResult.newBuilder()
            .setChannelId(channelId).setSuccess(false).setError("ssh socket refused")).build());
        case IGNORE -> { }
      }
    }), system);
  }

  static void echo(OpenShellClient client, ActorSystem<?> system, String channelId, String credential) {
    var back = Source.<RelayFrame>queue(16, OverflowStrategy.backpressure()).preMaterialize(system);
    Source<RelayFrame, ?> request = Source.single(RelayFrame.newBuilder()
            .setInit(RelayInit.newBuilder().setChannelId(channelId)).build())
        .concat(back.second());
    client.relayStream().addHeader(SupervisorCredential.METADATA_KEY, credential)
        .invoke(request.mapMaterializedValue(m -> org.apache.pekko.NotUsed.getInstance()))
        .mapAsync(1, back.first()::offer)
        .runWith(Sink.ignore(), system)
        .whenComplete((done, failure) -> back.first().complete());
  }

  public void close() {
    control.complete();
  }
}
