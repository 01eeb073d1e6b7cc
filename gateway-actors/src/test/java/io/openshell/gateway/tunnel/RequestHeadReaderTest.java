package io.openshell.gateway.tunnel;

import static org.junit.jupiter.api.Assertions.*;

import java.time.Duration;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.japi.Pair;
import org.apache.pekko.stream.javadsl.Flow;
import org.apache.pekko.stream.javadsl.Keep;
import org.apache.pekko.stream.testkit.TestPublisher;
import org.apache.pekko.stream.testkit.TestSubscriber;
import org.apache.pekko.stream.testkit.javadsl.TestSink;
import org.apache.pekko.stream.testkit.javadsl.TestSource;
import org.apache.pekko.util.ByteString;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

/** Reading one bounded request head off a byte stream, then passing the rest through. */
class RequestHeadReaderTest {
  private static final ActorTestKit testKit = ActorTestKit.create("RequestHeadReaderTest");

  @AfterAll
  static void tearDown() {
    testKit.shutdownTestKit();
  }

  private record Run(TestPublisher.Probe<ByteString> client, CompletionStage<ByteString> head,
      TestSubscriber.Probe<ByteString> rest) {}

  private static Run run(int maxBytes, Duration timeout) {
    Pair<Pair<TestPublisher.Probe<ByteString>, CompletionStage<ByteString>>, TestSubscriber.Probe<ByteString>> m =
        TestSource.<ByteString>create(testKit.system())
            .viaMat(Flow.fromGraph(new RequestHeadReader(maxBytes, timeout)), Keep.both())
            .toMat(TestSink.create(testKit.system()), Keep.both())
            .run(testKit.system());
    return new Run(m.first().first(), m.first().second(), m.second());
  }

  private static Throwable failure(CompletionStage<ByteString> head) {
    ExecutionException e = assertThrows(ExecutionException.class,
        () -> head.toCompletableFuture().get(5, TimeUnit.SECONDS));
    return e.getCause();
  }

  @Test
  void aHeadSplitAcrossReadsIsFoundAndTheBytesAfterItComeFirst() throws Exception {
    Run run = run(8192, Duration.ofSeconds(10));
    run.client().sendNext(ByteString.fromString("CONNECT /connect/ssh HTTP/1.1\r\nx-a: b\r"));
    run.client().sendNext(ByteString.fromString("\n\r"));
    run.client().sendNext(ByteString.fromString("\nSSH-2.0-client\r\n"));
    assertEquals("CONNECT /connect/ssh HTTP/1.1\r\nx-a: b\r\n\r\n",
        run.head().toCompletableFuture().get(5, TimeUnit.SECONDS).utf8String());
    run.rest().request(1);
    assertEquals(ByteString.fromString("SSH-2.0-client\r\n"), run.rest().expectNext());
    run.rest().request(1);
    run.client().sendNext(ByteString.fromString("more"));
    assertEquals(ByteString.fromString("more"), run.rest().expectNext());
    run.client().sendComplete();
    run.rest().expectComplete();
  }

  @Test
  void demandThatArrivedWhileTheHeadWasReadIsServedAfterIt() throws Exception {
    Run run = run(8192, Duration.ofSeconds(10));
    run.rest().request(1);
    run.client().sendNext(ByteString.fromString("CONNECT / HTTP/1.1\r\n\r\n"));
    run.head().toCompletableFuture().get(5, TimeUnit.SECONDS);
    run.client().sendNext(ByteString.fromString("first"));
    assertEquals(ByteString.fromString("first"), run.rest().expectNext());
  }

  @Test
  void bytesThatCameWithTheHeadAreDeliveredEvenWhenTheClientClosesAtOnce() throws Exception {
    Run run = run(8192, Duration.ofSeconds(10));
    run.client().sendNext(ByteString.fromString("CONNECT / HTTP/1.1\r\n\r\nlast words"));
    run.client().sendComplete();
    run.head().toCompletableFuture().get(5, TimeUnit.SECONDS);
    run.rest().request(2);
    assertEquals(ByteString.fromString("last words"), run.rest().expectNext());
    run.rest().expectComplete();
  }

  @Test
  void aHeadLargerThanTheLimitIsRefused431AndReadingStops() {
    Run run = run(64, Duration.ofSeconds(10));
    run.rest().request(1);
    run.client().sendNext(ByteString.fromString("CONNECT / HTTP/1.1\r\nx-padding: " + "p".repeat(100)));
    TunnelRefusal refusal = assertInstanceOf(TunnelRefusal.class, failure(run.head()));
    assertEquals(431, refusal.status());
    run.client().expectNoMessage(Duration.ofMillis(200));
  }

  @Test
  void aHeadWhoseEndLiesPastTheLimitIsRefusedToo() {
    Run run = run(32, Duration.ofSeconds(10));
    run.client().sendNext(ByteString.fromString("CONNECT /connect/ssh HTTP/1.1\r\nx: y\r\n\r\n"));
    assertEquals(431, assertInstanceOf(TunnelRefusal.class, failure(run.head())).status());
  }

  @Test
  void aClientThatSendsNoCompleteHeadInTimeIsRefused408() {
    Run run = run(8192, Duration.ofMillis(300));
    run.client().sendNext(ByteString.fromString("CONNECT /connect/ssh HT"));
    assertEquals(408, assertInstanceOf(TunnelRefusal.class, failure(run.head())).status());
  }

  @Test
  void aClientThatClosesBeforeTheHeadEndsGetsNoAnswer() {
    Run run = run(8192, Duration.ofSeconds(10));
    run.rest().request(1);
    run.client().sendNext(ByteString.fromString("CONNECT /conn"));
    run.client().sendComplete();
    assertInstanceOf(RequestHeadReader.HeadNotReceived.class, failure(run.head()));
    run.rest().expectComplete();
  }
}
