package io.openshell.supervisor.relay;

import static io.openshell.supervisor.relay.TestServiceMethods.method;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Metadata;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import org.junit.jupiter.api.Test;

/** The prefetching call against a scripted transport that delivers only what was requested of it. */
class RelayPrefetchTest {

  /** A transport: remembers how many messages were requested and lets the test deliver them. */
  private static final class Transport extends ClientCall<Integer, Integer> {
    final AtomicLong requested = new AtomicLong();
    final AtomicLong delivered = new AtomicLong();
    volatile Listener<Integer> listener;

    @Override
    public void start(Listener<Integer> listener, Metadata headers) {
      this.listener = listener;
    }

    @Override
    public void request(int count) {
      requested.addAndGet(count);
    }

    /** Delivers the next message if the caller asked for it; false when it did not. */
    boolean deliver(int value) {
      if (delivered.get() >= requested.get()) return false;
      delivered.incrementAndGet();
      listener.onMessage(value);
      return true;
    }

    @Override
    public void cancel(String message, Throwable cause) {}

    @Override
    public void halfClose() {}

    @Override
    public void sendMessage(Integer message) {}
  }

  /** The stage above: counts and records what reaches it. */
  private static final class Downstream extends ClientCall.Listener<Integer> {
    final List<Integer> received = new java.util.concurrent.CopyOnWriteArrayList<>();
    volatile Status closedWith;

    @Override
    public void onMessage(Integer message) {
      received.add(message);
    }

    @Override
    public void onClose(Status status, Metadata trailers) {
      closedWith = status;
    }
  }

  private static ClientCall<Integer, Integer> intercept(RelayPrefetch prefetch, MethodDescriptor<Integer, Integer> method,
      Transport transport) {
    Channel channel = new Channel() {
      @Override
      @SuppressWarnings("unchecked")
      public <Q, R> ClientCall<Q, R> newCall(MethodDescriptor<Q, R> descriptor, CallOptions options) {
        return (ClientCall<Q, R>) transport;
      }

      @Override
      public String authority() {
        return "test";
      }
    };
    return prefetch.interceptCall(method, CallOptions.DEFAULT, channel);
  }

  @Test
  void otherMethodsAreLeftAlone() {
    Transport transport = new Transport();
    ClientCall<Integer, Integer> call = intercept(new RelayPrefetch("test.Service/Relay", 8), method("Other"), transport);
    assertSame(transport, call);
  }

  @Test
  void theWindowIsRequestedAtStartAndMessagesWaitForDemandInOrder() {
    Transport transport = new Transport();
    ClientCall<Integer, Integer> call = intercept(new RelayPrefetch("test.Service/Relay", 8), method("Relay"), transport);
    Downstream downstream = new Downstream();
    call.start(downstream, new Metadata());
    assertEquals(8, transport.requested.get(), "the window is asked of the transport at once");

    for (int i = 0; i < 8; i++) assertTrue(transport.deliver(i));
    assertTrue(!transport.deliver(8), "never more than the window without demand");
    assertEquals(List.of(), downstream.received, "nothing reaches the stage before it asks");

    call.request(3);
    assertEquals(List.of(0, 1, 2), downstream.received);
    assertEquals(11, transport.requested.get(), "each message handed on is replaced by one request");

    call.request(100);
    assertEquals(List.of(0, 1, 2, 3, 4, 5, 6, 7), downstream.received);
    for (int i = 8; i < 20; i++) assertTrue(transport.deliver(i));
    assertEquals(20, downstream.received.size(), "with demand outstanding messages pass straight through");
    for (int i = 0; i < 20; i++) assertEquals(i, downstream.received.get(i));
  }

  @Test
  void closeReachesTheStageOnlyAfterTheMessagesBeforeIt() {
    Transport transport = new Transport();
    ClientCall<Integer, Integer> call = intercept(new RelayPrefetch("test.Service/Relay", 4), method("Relay"), transport);
    Downstream downstream = new Downstream();
    call.start(downstream, new Metadata());
    transport.deliver(1);
    transport.deliver(2);
    transport.listener.onClose(Status.OK, new Metadata());
    assertNull(downstream.closedWith, "two messages are still waiting for demand");
    call.request(1);
    assertNull(downstream.closedWith);
    call.request(1);
    assertEquals(List.of(1, 2), downstream.received);
    assertEquals(Status.OK, downstream.closedWith);
  }

  @Test
  void aTransportThreadAndAConsumerThreadHandOverEveryMessageOnceInOrder() throws Exception {
    int total = 200_000;
    Transport transport = new Transport();
    ClientCall<Integer, Integer> call = intercept(new RelayPrefetch("test.Service/Relay", 32), method("Relay"), transport);
    AtomicInteger next = new AtomicInteger();
    CountDownLatch done = new CountDownLatch(1);
    List<Integer> outOfOrder = new ArrayList<>();
    call.start(new ClientCall.Listener<>() {
      @Override
      public void onMessage(Integer message) {
        if (message != next.getAndIncrement()) outOfOrder.add(message);
        if (next.get() == total) done.countDown();
      }
    }, new Metadata());
    Thread network = new Thread(() -> {
      int value = 0;
      while (value < total) {
        if (transport.deliver(value)) value++;
        else Thread.onSpinWait();
      }
    });
    Thread consumer = new Thread(() -> {
      long asked = 0;
      while (done.getCount() > 0) {
        // Ask in small uneven batches once the stage has nearly caught up, as a stream stage pulling
        // element by element would, so requests keep racing with arrivals.
        if (asked - next.get() < 2) {
          int batch = 1 + (int) (asked % 3);
          call.request(batch);
          asked += batch;
        } else {
          Thread.onSpinWait();
        }
      }
    });
    network.start();
    consumer.start();
    assertTrue(done.await(60, TimeUnit.SECONDS), "all messages handed over; got " + next.get());
    network.join(10_000);
    consumer.join(10_000);
    assertEquals(List.of(), outOfOrder);
    assertEquals(total + 32, transport.requested.get(), "the window plus one request per message handed on");
  }
}
