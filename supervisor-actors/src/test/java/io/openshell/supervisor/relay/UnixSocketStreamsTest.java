package io.openshell.supervisor.relay;

import static org.junit.jupiter.api.Assertions.*;

import java.io.ByteArrayOutputStream;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.apache.pekko.actor.testkit.typed.javadsl.ActorTestKit;
import org.apache.pekko.stream.javadsl.Sink;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.Test;

class UnixSocketStreamsTest {
  private static final ActorTestKit testKit = ActorTestKit.create();
  private static final int MAX_READ = 16 * 1024;

  @AfterAll
  static void stop() {
    testKit.shutdownTestKit();
  }

  /** The supervisor's end and the daemon's end of one connected Unix socket. */
  private record Connection(SocketChannel supervisor, SocketChannel daemon, ServerSocketChannel listener) implements AutoCloseable {
    static Connection open() throws Exception {
      Path path = Files.createTempDirectory("unix-streams").resolve("ssh.sock");
      ServerSocketChannel listener = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
      listener.bind(UnixDomainSocketAddress.of(path));
      SocketChannel supervisor = UnixSocketStreams.connect(path);
      return new Connection(supervisor, listener.accept(), listener);
    }

    @Override
    public void close() throws Exception {
      supervisor.close();
      daemon.close();
      listener.close();
    }
  }

  /** One element per read: the array the read went into, how much of it, and on which thread. */
  private record Read(byte[] array, int length, String thread) {}

  private static byte[] random(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }

  private static List<Read> readAll(SocketChannel channel) throws Exception {
    return UnixSocketStreams.reads(channel, MAX_READ, (array, length) -> new Read(array, length, Thread.currentThread().getName()))
        .runWith(Sink.seq(), testKit.system()).toCompletableFuture().get(30, TimeUnit.SECONDS);
  }

  @Test
  void theDaemonsBytesArriveIntactInReadsOfAtMostMaxReadAndItsEofCompletes() throws Exception {
    try (Connection connection = Connection.open()) {
      byte[] sent = random(3 * 1024 * 1024 + 17);
      Thread daemon = new Thread(() -> {
        try {
          ByteBuffer buffer = ByteBuffer.wrap(sent);
          while (buffer.hasRemaining()) connection.daemon().write(buffer);
          connection.daemon().shutdownOutput();
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      daemon.start();
      List<Read> reads = readAll(connection.supervisor());
      daemon.join();
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      for (Read read : reads) {
        assertTrue(read.length() > 0 && read.length() <= MAX_READ, "read of " + read.length());
        received.write(read.array(), 0, read.length());
      }
      assertArrayEquals(sent, received.toByteArray());
      // Blocking reads never run on the stream's own dispatcher.
      assertTrue(reads.stream().allMatch(r -> r.thread().contains("blocking-io-dispatcher")), reads.get(0).thread());
    }
  }

  @Test
  void everyReadKeepsItsOwnArrayAndAShortReadOnlyWhatItRead() throws Exception {
    try (Connection connection = Connection.open()) {
      byte[] sent = random(MAX_READ * 8);
      ByteBuffer buffer = ByteBuffer.wrap(sent);
      // Fits in the socket's buffer: written before anything reads, then a short tail and EOF.
      while (buffer.hasRemaining()) connection.daemon().write(buffer);
      connection.daemon().write(ByteBuffer.wrap(new byte[] {1, 2, 3}));
      connection.daemon().shutdownOutput();
      List<Read> reads = readAll(connection.supervisor());
      for (int i = 0; i < reads.size(); i++) {
        Read read = reads.get(i);
        if (read.length() < MAX_READ / 4) assertEquals(read.length(), read.array().length, "a short read holds only its bytes");
        for (int j = 0; j < i; j++) assertNotSame(reads.get(j).array(), read.array(), "no array is reused");
      }
      assertEquals(sent.length + 3, reads.stream().mapToInt(Read::length).sum());
    }
  }

  @Test
  void theDaemonsEofLeavesTheSupervisorsDirectionOpen() throws Exception {
    try (Connection connection = Connection.open()) {
      connection.daemon().shutdownOutput();
      assertTrue(readAll(connection.supervisor()).isEmpty());
      // Half-close: the supervisor still writes to the daemon after its input was shut down.
      connection.supervisor().write(ByteBuffer.wrap(new byte[] {42}));
      ByteBuffer one = ByteBuffer.allocate(1);
      assertEquals(1, connection.daemon().read(one));
      assertEquals(42, one.get(0));
    }
  }

  @Test
  void aFailedReadFailsTheSource() throws Exception {
    try (Connection connection = Connection.open()) {
      connection.supervisor().close();
      var done = UnixSocketStreams.reads(connection.supervisor(), MAX_READ, (array, length) -> length)
          .runWith(Sink.ignore(), testKit.system()).toCompletableFuture();
      var failure = assertThrows(java.util.concurrent.ExecutionException.class, () -> done.get(30, TimeUnit.SECONDS));
      assertInstanceOf(java.nio.channels.ClosedChannelException.class, failure.getCause());
    }
  }

  /** Everything the daemon's end reads until EOF, read on a thread of its own. */
  private static java.util.concurrent.CompletableFuture<byte[]> daemonReadsToEof(SocketChannel daemon) {
    var done = new java.util.concurrent.CompletableFuture<byte[]>();
    Thread reader = new Thread(() -> {
      ByteArrayOutputStream received = new ByteArrayOutputStream();
      ByteBuffer buffer = ByteBuffer.allocate(64 * 1024);
      try {
        while (daemon.read(buffer.clear()) >= 0) received.write(buffer.array(), 0, buffer.position());
        done.complete(received.toByteArray());
      } catch (java.io.IOException e) {
        done.completeExceptionally(e);
      }
    }, "daemon-reader");
    reader.setDaemon(true);
    reader.start();
    return done;
  }

  @Test
  void batchesOfPiecesReachTheDaemonWholeAndInOrderThenEof() throws Exception {
    try (Connection connection = Connection.open()) {
      byte[] sent = random(2 * 1024 * 1024);
      var received = daemonReadsToEof(connection.daemon());
      // Batches as the bridge writes them: frames joined into ropes of many pieces, slices included.
      List<org.apache.pekko.util.ByteString> batches = new ArrayList<>();
      for (int offset = 0; offset < sent.length; ) {
        org.apache.pekko.util.ByteString batch = org.apache.pekko.util.ByteString.emptyByteString();
        for (int i = 0; i < 16 && offset < sent.length; i++) {
          int length = Math.min(1 + (offset * 31 + i) % MAX_READ, sent.length - offset);
          batch = batch.concat(org.apache.pekko.util.ByteString.fromArrayUnsafe(sent).slice(offset, offset + length));
          offset += length;
        }
        batches.add(batch);
      }
      org.apache.pekko.stream.javadsl.Source.from(batches).runWith(UnixSocketStreams.writes(connection.supervisor()), testKit.system())
          .toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertArrayEquals(sent, received.get(30, TimeUnit.SECONDS), "intact, in order, and EOF at the end");
    }
  }

  @Test
  void theEndOfTheWritesLeavesTheDaemonsDirectionOpen() throws Exception {
    try (Connection connection = Connection.open()) {
      var received = daemonReadsToEof(connection.daemon());
      org.apache.pekko.stream.javadsl.Source.single(org.apache.pekko.util.ByteString.fromString("bye"))
          .runWith(UnixSocketStreams.writes(connection.supervisor()), testKit.system()).toCompletableFuture().get(30, TimeUnit.SECONDS);
      assertArrayEquals("bye".getBytes(), received.get(30, TimeUnit.SECONDS));
      // Half-close: the daemon's last output still reaches the supervisor.
      connection.daemon().write(ByteBuffer.wrap(new byte[] {7}));
      ByteBuffer one = ByteBuffer.allocate(1);
      assertEquals(1, connection.supervisor().read(one));
      assertEquals(7, one.get(0));
    }
  }

  @Test
  void aFailedWriteFailsTheSink() throws Exception {
    try (Connection connection = Connection.open()) {
      connection.supervisor().close();
      var done = org.apache.pekko.stream.javadsl.Source.single(org.apache.pekko.util.ByteString.fromString("x"))
          .runWith(UnixSocketStreams.writes(connection.supervisor()), testKit.system()).toCompletableFuture();
      var failure = assertThrows(java.util.concurrent.ExecutionException.class, () -> done.get(30, TimeUnit.SECONDS));
      assertInstanceOf(java.nio.channels.ClosedChannelException.class, failure.getCause());
    }
  }

  @Test
  void aListeningDaemonIsConnectedAtOnceWithABlockingChannel() throws Exception {
    Path dir = Files.createTempDirectory("unix-streams");
    Path path = dir.resolve("ssh.sock");
    try (ServerSocketChannel daemon = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      daemon.bind(UnixDomainSocketAddress.of(path));
      try (SocketChannel channel = UnixSocketStreams.connectNow(path)) {
        assertNotNull(channel, "connected without waiting");
        assertTrue(channel.isConnected());
        // The byte streams read and write in blocking mode.
        assertTrue(channel.isBlocking());
      }
    }
  }

  @Test
  void noDaemonLeavesTheConnectToTheBlockingPathWhichSaysWhy() throws Exception {
    Path missing = Files.createTempDirectory("unix-streams").resolve("ssh.sock");
    assertNull(UnixSocketStreams.connectNow(missing));
    assertThrows(java.io.IOException.class, () -> UnixSocketStreams.connect(missing));
  }

  @Test
  void aFullAcceptBacklogLeavesTheConnectToTheBlockingPath() throws Exception {
    Path path = Files.createTempDirectory("unix-streams").resolve("ssh.sock");
    List<SocketChannel> waiting = new ArrayList<>();
    try (ServerSocketChannel daemon = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
      // A daemon that never accepts: its backlog of one fills after a connection or two.
      daemon.bind(UnixDomainSocketAddress.of(path), 1);
      SocketChannel refused = null;
      for (int i = 0; i < 16 && refused == null; i++) {
        SocketChannel channel = UnixSocketStreams.connectNow(path);
        if (channel == null) refused = SocketChannel.open(StandardProtocolFamily.UNIX);
        else waiting.add(channel);
      }
      assertNotNull(refused, "a full backlog is not connected without blocking");
      refused.close();
      assertFalse(waiting.isEmpty(), "connections the backlog had room for were made at once");
    } finally {
      for (SocketChannel channel : waiting) channel.close();
    }
  }
}
