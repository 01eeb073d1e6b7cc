package io.openshell.gateway.relay;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.openshell.gateway.AcceptingDriver;
import io.openshell.gateway.TestGateway;
import io.openshell.gateway.sandbox.SupervisorCredential;
import io.openshell.protocol.v1.*;
import java.nio.file.Files;
import java.time.Duration;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.NotUsed;
import org.apache.pekko.actor.typed.javadsl.Adapter;
import org.apache.pekko.stream.OverflowStrategy;
import org.apache.pekko.stream.javadsl.Sink;
import org.apache.pekko.stream.javadsl.Source;
import org.apache.pekko.stream.testkit.TestPublisher;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

/**
 * A supervisor may start its RelayStream call before the relay exists (its spare: HEADERS sent, no
 * frame yet) and send Init only when RelayOpen arrives. The gateway must neither reset such a call
 * while it waits nor keep it once the supervisor cancels it. This gateway's generic timeouts are cut
 * to 1 s (pekko-http's request timeout, the materializer's substream subscription timeout) so a short
 * wait outlasts them, and its connection takes only 8 concurrent streams so leaked ones would show.
 */
class RelayStreamBeforeInitIT {
  private static TestGateway gateway;

  @BeforeAll
  static void start() throws Exception {
    gateway = TestGateway.start("sqlite::memory:", Files.createTempDirectory("relay-before-init"), new AcceptingDriver(),
        "pekko.http.server.request-timeout = 1s\n"
            + "pekko.stream.materializer.subscription-timeout.timeout = 1s\n"
            + "pekko.http.server.http2.max-concurrent-streams = 8\n");
  }

  @AfterAll
  static void stop() throws Exception {
    gateway.close();
  }

  private static String readySandbox(String name) throws Exception {
    return gateway.client.createSandbox(CreateSandboxRequest.newBuilder().setSpec(SandboxSpec.getDefaultInstance()).setName(name).build())
        .toCompletableFuture().get(30, TimeUnit.SECONDS).getSandbox().getId();
  }

  /** A supervisor's control stream, driven by the test; returns the gateway's messages once accepted. */
  private static TestSubscriber.Probe<GatewayMessage> session(String sandboxId) {
    var control = Source.<SupervisorMessage>queue(16, OverflowStrategy.backpressure()).preMaterialize(gateway.system);
    control.first().offer(SupervisorMessage.newBuilder().setHello(SupervisorHello.newBuilder().setSandboxId(sandboxId)).build());
    TestSubscriber.Probe<GatewayMessage> messages = gateway.client.connectSupervisor()
        .addHeader(SupervisorCredential.METADATA_KEY, gateway.credential(sandboxId)).invoke(control.second())
        .runWith(TestSink.create(gateway.system), gateway.system);
    messages.request(10);
    assertTrue(messages.expectNext(Duration.ofSeconds(20)).hasSessionAccepted());
    return messages;
  }

  /** A RelayStream call started with no frame: the frames come from the returned publisher, when the test says. */
  private static TestPublisher.Probe<RelayFrame> spare(String sandboxId, TestSubscriber.Probe<RelayFrame> fromGateway) {
    TestPublisher.Probe<RelayFrame> toGateway = TestPublisher.probe(0, Adapter.toClassic(gateway.system));
    gateway.client.relayStream().addHeader(SupervisorCredential.METADATA_KEY, gateway.credential(sandboxId))
        .invoke(Source.fromPublisher(toGateway).mapMaterializedValue(m -> NotUsed.getInstance()))
        .runWith(Sink.fromSubscriber(fromGateway), gateway.system);
    return toGateway;
  }

  @Test
  void aRelayStreamThatSendsItsInitLongAfterItsHeadersIsClaimedAndCarriesBytes() throws Exception {
    String id = readySandbox("before-init");
    TestSubscriber.Probe<GatewayMessage> control = session(id);
    TestSubscriber.Probe<RelayFrame> fromGateway = TestSubscriber.probe(Adapter.toClassic(gateway.system));
    TestPublisher.Probe<RelayFrame> toGateway = spare(id, fromGateway);
    fromGateway.ensureSubscription();
    fromGateway.request(4);
    // Three times the cut timeouts: the call is neither failed nor ended meanwhile.
    fromGateway.expectNoMessage(Duration.ofSeconds(3));

    var opening = gateway.running.relays().open(id, Duration.ofSeconds(30));
    String channel = control.expectNext(Duration.ofSeconds(20)).getRelayOpen().getChannelId();
    toGateway.sendNext(RelayFrame.newBuilder().setInit(RelayInit.newBuilder().setChannelId(channel)).build());
    RelayConnection relay = opening.connection().toCompletableFuture().get(20, TimeUnit.SECONDS);

    Source.single(ByteString.fromString("to the sandbox")).concat(Source.never()).runWith(relay.toSupervisor().getSink(), gateway.system);
    assertEquals("to the sandbox", fromGateway.expectNext(Duration.ofSeconds(10)).getData().toStringUtf8());
    TestSubscriber.Probe<ByteString> toClient = relay.fromSupervisor().getSource().runWith(TestSink.create(gateway.system), gateway.system);
    toClient.request(1);
    toGateway.sendNext(RelayFrame.newBuilder().setData(com.google.protobuf.ByteString.copyFromUtf8("to the client")).build());
    assertEquals(ByteString.fromString("to the client"), toClient.expectNext(Duration.ofSeconds(10)));
  }

  @Test
  void cancelledRelayStreamsWithoutInitGiveTheirStreamsBack() throws Exception {
    String id = readySandbox("cancelled-spares");
    TestSubscriber.Probe<GatewayMessage> control = session(id);
    // Three times the connection's 8 streams, one after the other, each cancelled before any frame.
    for (int i = 0; i < 24; i++) {
      TestSubscriber.Probe<RelayFrame> fromGateway = TestSubscriber.probe(Adapter.toClassic(gateway.system));
      spare(id, fromGateway);
      fromGateway.ensureSubscription();
      fromGateway.expectNoMessage(Duration.ofMillis(50));
      fromGateway.cancel();
    }
    // A relay still opens on this connection: no stream was kept.
    TestSubscriber.Probe<RelayFrame> fromGateway = TestSubscriber.probe(Adapter.toClassic(gateway.system));
    TestPublisher.Probe<RelayFrame> toGateway = spare(id, fromGateway);
    fromGateway.ensureSubscription();
    fromGateway.request(1);
    var opening = gateway.running.relays().open(id, Duration.ofSeconds(30));
    String channel = control.expectNext(Duration.ofSeconds(20)).getRelayOpen().getChannelId();
    toGateway.sendNext(RelayFrame.newBuilder().setInit(RelayInit.newBuilder().setChannelId(channel)).build());
    opening.connection().toCompletableFuture().get(20, TimeUnit.SECONDS);
  }
}
