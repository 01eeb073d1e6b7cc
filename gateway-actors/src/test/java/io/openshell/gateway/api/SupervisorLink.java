package io.openshell.gateway.api;

import io.openshell.gateway.sandbox.SupervisorCredential;
import io.openshell.protocol.v1.GatewayMessage;
import io.openshell.protocol.v1.OpenShellClient;
import io.openshell.protocol.v1.SupervisorHello;
import io.openshell.protocol.v1.SupervisorMessage;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.BoundedSourceQueue;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;

/** The test playing a supervisor: one real ConnectSupervisor stream over gRPC. */
final class SupervisorLink {
  final BoundedSourceQueue<SupervisorMessage> out;
  final TestSubscriber.Probe<GatewayMessage> in;

  private SupervisorLink(BoundedSourceQueue<SupervisorMessage> out, TestSubscriber.Probe<GatewayMessage> in) {
    this.out = out;
    this.in = in;
  }

  /** A link that presents no sandbox credential. */
  static SupervisorLink open(OpenShellClient client, ActorSystem<?> system) {
    return open(client, system, null);
  }

  /** A link that presents {@code credential} as x-sandbox-credential (null: none). */
  static SupervisorLink open(OpenShellClient client, ActorSystem<?> system, String credential) {
    var outbound = Source.<SupervisorMessage>queue(64).preMaterialize(system);
    var call = client.connectSupervisor();
    if (credential != null) call = call.addHeader(SupervisorCredential.METADATA_KEY, credential);
    TestSubscriber.Probe<GatewayMessage> in = call.invoke(outbound.second())
        .runWith(TestSink.create(system), system);
    return new SupervisorLink(outbound.first(), in);
  }

  static SupervisorMessage hello(String sandboxId) {
    return SupervisorMessage.newBuilder()
        .setHello(SupervisorHello.newBuilder().setSandboxId(sandboxId).setInstanceId("test-instance")).build();
  }

  void send(SupervisorMessage message) {
    out.offer(message);
  }
}
