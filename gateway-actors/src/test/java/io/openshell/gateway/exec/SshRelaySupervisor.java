package io.openshell.gateway.exec;

import io.openshell.gateway.sandbox.SupervisorCredential;
import io.openshell.protocol.v1.*;
import java.net.InetSocketAddress;
import java.util.List;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.ActorSystem;
import org.apache.pekko.stream.KillSwitches;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.SharedKillSwitch;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.javadsl.Tcp;
import org.apache.pekko.util.ByteString;
import org.apache.sshd.server.SshServer;
import org.apache.sshd.server.auth.pubkey.AcceptAllPublickeyAuthenticator;
import org.apache.sshd.server.keyprovider.SimpleGeneratorHostKeyProvider;

/**
 * Stands in for a sandbox in gateway-only tests: a MINA SSH server on loopback TCP (running commands
 * with bash -c) and a supervisor session that bridges every RelayOpen to it over a real RelayStream.
 * The real in-sandbox daemon (Unix socket, PTYs, process groups) is tested in the supervisor module
 * and end to end.
 */
final class SshRelaySupervisor implements AutoCloseable {
  final SshServer server;
  final SharedKillSwitch relays = KillSwitches.shared("relays");
  private final org.apache.pekko.stream.javadsl.SourceQueueWithComplete<SupervisorMessage> control;
  private final String credential;

  SshRelaySupervisor(OpenShellClient client, ActorSystem<?> system, String sandboxId, String credential) throws Exception {
    this.credential = credential;
    server = SshServer.setUpDefaultServer();
    server.setHost("127.0.0.1");
    server.setPort(0);
    server.setKeyPairProvider(new SimpleGeneratorHostKeyProvider());
    server.setPublickeyAuthenticator(AcceptAllPublickeyAuthenticator.INSTANCE);
    // As the sandbox daemon: any password is granted.
    server.setPasswordAuthenticator((user, password, session) -> true);
    server.setCommandFactory((channel, command) -> new BashCommand(command));
    server.start();
    int port = server.getPort();

    var outbound = Source.<SupervisorMessage>queue(64, OverflowStrategy.backpressure()).preMaterialize(system);
    control = outbound.first();
    control.offer(SupervisorMessage.newBuilder().setHello(SupervisorHello.newBuilder().setSandboxId(sandboxId)).build());
    client.connectSupervisor().addHeader(SupervisorCredential.METADATA_KEY, credential).invoke(outbound.second()).runWith(Sink.foreach(message -> {
      if (message.hasRelayOpen()) bridge(client, system, message.getRelayOpen().getChannelId(), port);
    }), system);
  }

  private void bridge(OpenShellClient client, ActorSystem<?> system, String channelId, int port) {
    Flow<ByteString, ByteString, ?> ssh = Tcp.get(system).outgoingConnection("127.0.0.1", port);
    var toGateway = Source.<RelayFrame>queue(16, OverflowStrategy.backpressure()).preMaterialize(system);
    Source<RelayFrame, NotUsed> request = Source.single(RelayFrame.newBuilder().setInit(RelayInit.newBuilder().setChannelId(channelId)).build())
        .concat(toGateway.second());
    client.relayStream().addHeader(SupervisorCredential.METADATA_KEY, credential).invoke(request)
        .via(relays.flow())
        .map(frame -> ByteString.fromArray(frame.getData().toByteArray()))
        .via(ssh)
        .mapAsync(1, bytes -> toGateway.first().offer(RelayFrame.newBuilder().setData(com.google.protobuf.ByteString.copyFrom(bytes.toArray())).build()))
        .runWith(Sink.ignore(), system)
        .whenComplete((done, failure) -> toGateway.first().complete());
  }

  /** Cuts every relay at once, as a supervisor crash would. */
  void killRelays() {
    relays.abort(new RuntimeException("supervisor died"));
  }

  @Override
  public void close() throws Exception {
    control.complete();
    server.stop(true);
  }
}
