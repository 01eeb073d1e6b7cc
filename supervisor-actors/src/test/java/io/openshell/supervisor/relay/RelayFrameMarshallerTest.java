package io.openshell.supervisor.relay;

import static org.junit.jupiter.api.Assertions.*;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.UnsafeByteOperations;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.openshell.protocol.v1.RelayFrame;
import io.openshell.protocol.v1.RelayInit;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

class RelayFrameMarshallerTest {
  private static final RelayFrameMarshaller MARSHALLER = RelayFrameMarshaller.INSTANCE;

  private static byte[] random(int size) {
    byte[] bytes = new byte[size];
    new Random(size).nextBytes(bytes);
    return bytes;
  }

  private static RelayFrame data(byte[] bytes) {
    return RelayFrame.newBuilder().setData(UnsafeByteOperations.unsafeWrap(bytes)).build();
  }

  private static RelayFrame init(String channelId) {
    return RelayFrame.newBuilder().setInit(RelayInit.newBuilder().setChannelId(channelId)).build();
  }

  /** What grpc-java's framer does with a stream it knows the length of: asks the length, then drains it. */
  private static byte[] drained(RelayFrame frame) throws IOException {
    InputStream stream = MARSHALLER.stream(frame);
    assertInstanceOf(KnownLength.class, stream);
    assertInstanceOf(Drainable.class, stream);
    int length = stream.available();
    ByteArrayOutputStream wire = new ByteArrayOutputStream();
    assertEquals(length, ((Drainable) stream).drainTo(wire), "drained what it announced");
    assertEquals(length, wire.size());
    assertEquals(0, stream.available());
    return wire.toByteArray();
  }

  /** A message stream as grpc-java hands it over: its length known, its bytes in pieces of at most {@code piece}. */
  private static InputStream received(byte[] message, int piece) {
    return new KnownLengthStream(message, piece);
  }

  @Test
  void aDataFrameIsDrainedAsExactlyItsProtobufEncoding() throws Exception {
    for (int size : new int[] {1, 127, 128, 16 * 1024, 100_000}) {
      RelayFrame frame = data(random(size));
      assertArrayEquals(frame.toByteArray(), drained(frame), size + " bytes");
    }
  }

  @Test
  void anInitFrameIsDrainedAsExactlyItsProtobufEncoding() throws Exception {
    RelayFrame frame = init("7d0f1c9e-4c1a-4f0e-9f63-0c3f6a2b9e11");
    assertArrayEquals(frame.toByteArray(), drained(frame));
  }

  @Test
  void anEmptyDataFrameKeepsItsPayloadOnTheWire() throws Exception {
    RelayFrame frame = RelayFrame.newBuilder().setData(ByteString.EMPTY).build();
    byte[] wire = drained(frame);
    assertArrayEquals(frame.toByteArray(), wire);
    RelayFrame parsed = RelayFrame.parseFrom(wire);
    assertTrue(parsed.hasData());
    assertEquals(0, parsed.getData().size());
  }

  @Test
  void dataHeldAsBuffersOrPiecesIsDrainedAsTheSameEncoding() throws Exception {
    byte[] bytes = random(40_000);
    ByteString direct = UnsafeByteOperations.unsafeWrap(ByteBuffer.allocateDirect(bytes.length).put(bytes).flip());
    ByteString readOnly = UnsafeByteOperations.unsafeWrap(ByteBuffer.wrap(bytes).asReadOnlyBuffer());
    ByteString rope = UnsafeByteOperations.unsafeWrap(bytes, 0, 1000).concat(UnsafeByteOperations.unsafeWrap(bytes, 1000, 39_000));
    for (ByteString data : List.of(direct, readOnly, rope)) {
      RelayFrame frame = RelayFrame.newBuilder().setData(data).build();
      assertArrayEquals(frame.toByteArray(), drained(frame));
    }
  }

  @Test
  void aFrameWithFieldsThisVersionDoesNotKnowIsStillEncodedWhole() throws Exception {
    RelayFrame frame = RelayFrame.newBuilder().setData(ByteString.copyFrom(random(300)))
        .setUnknownFields(com.google.protobuf.UnknownFieldSet.newBuilder()
            .addField(9, com.google.protobuf.UnknownFieldSet.Field.newBuilder().addVarint(42).build()).build())
        .build();
    assertArrayEquals(frame.toByteArray(), drained(frame));
  }

  @Test
  void aReaderThatReadsInsteadOfDrainingGetsTheSameBytes() throws Exception {
    RelayFrame frame = data(random(20_000));
    InputStream stream = MARSHALLER.stream(frame);
    ByteArrayOutputStream read = new ByteArrayOutputStream();
    read.write(stream.read());
    byte[] piece = new byte[777];
    for (int n; (n = stream.read(piece, 0, piece.length)) > 0; ) {
      read.write(piece, 0, n);
      if (read.size() > 5000) break;
    }
    // ... and a drain after reading began gives the rest.
    ((Drainable) stream).drainTo(read);
    assertArrayEquals(frame.toByteArray(), read.toByteArray());
  }

  @Test
  void framesSplitAcrossReadsAreParsedWhole() {
    for (int size : new int[] {0, 1, 16 * 1024, 100_000}) {
      RelayFrame frame = data(random(size));
      assertEquals(frame, MARSHALLER.parse(received(frame.toByteArray(), 1000)), size + " bytes");
    }
    RelayFrame init = init("c-1");
    assertEquals(init, MARSHALLER.parse(received(init.toByteArray(), 3)));
  }

  @Test
  void aStreamOfUnknownLengthIsParsedToo() {
    RelayFrame frame = data(random(16 * 1024));
    assertEquals(frame, MARSHALLER.parse(new ByteArrayInputStream(frame.toByteArray()) {
      @Override
      public synchronized int available() {
        return 0; // as a stream that cannot tell
      }
    }));
  }

  @Test
  void anEmptyMessageIsAFrameWithoutPayload() {
    RelayFrame parsed = MARSHALLER.parse(received(new byte[0], 1));
    assertEquals(RelayFrame.PayloadCase.PAYLOAD_NOT_SET, parsed.getPayloadCase());
  }

  @Test
  void parsedDataIsAViewOfTheOneArrayTheMessageWasReadInto() {
    RelayFrame frame = data(random(16 * 1024));
    byte[] message = frame.toByteArray();
    ByteString parsed = MARSHALLER.parse(received(message, 4096)).getData();
    List<int[]> pieces = new ArrayList<>();
    List<byte[]> arrays = new ArrayList<>();
    try {
      UnsafeByteOperations.unsafeWriteTo(parsed, new ByteOutput() {
        @Override public void write(byte value) { fail("copied"); }
        @Override public void write(byte[] value, int offset, int length) { fail("copied"); }
        @Override public void writeLazy(byte[] value, int offset, int length) {
          arrays.add(value);
          pieces.add(new int[] {offset, length});
        }
        @Override public void write(ByteBuffer value) { fail("copied"); }
        @Override public void writeLazy(ByteBuffer value) { fail("not an array"); }
      });
    } catch (IOException impossible) {
      throw new AssertionError(impossible);
    }
    assertEquals(1, arrays.size(), "one piece");
    // The whole message's array (tag 0x12 and a three-byte length before the data), not a copy of the data.
    assertEquals(message.length, arrays.get(0).length);
    assertArrayEquals(new int[] {4, 16 * 1024}, pieces.get(0));
    assertNotSame(message, arrays.get(0), "read out of gRPC's buffer once, into a fresh array");
  }

  @Test
  void aCorruptMessageFailsTheCallWithInternal() {
    byte[] truncated = java.util.Arrays.copyOf(data(random(100)).toByteArray(), 50);
    var failure = assertThrows(io.grpc.StatusRuntimeException.class, () -> MARSHALLER.parse(received(truncated, 64)));
    assertEquals(io.grpc.Status.Code.INTERNAL, failure.getStatus().getCode());
  }

  @Test
  void onlyTheRelayMethodGetsThisMarshaller() {
    List<MethodDescriptor<?, ?>> opened = new ArrayList<>();
    Channel transport = new Channel() {
      @Override
      public <I, O> ClientCall<I, O> newCall(MethodDescriptor<I, O> method, CallOptions options) {
        opened.add(method);
        return null;
      }

      @Override
      public String authority() {
        return "gateway";
      }
    };
    var interceptor = RelayFrameMarshaller.interceptor("openshell.v1.OpenShell/RelayStream");
    MethodDescriptor<RelayFrame, RelayFrame> relay = method("RelayStream");
    MethodDescriptor<RelayFrame, RelayFrame> other = method("Other");
    interceptor.interceptCall(relay, CallOptions.DEFAULT, transport);
    interceptor.interceptCall(other, CallOptions.DEFAULT, transport);
    assertSame(MARSHALLER, opened.get(0).getRequestMarshaller());
    assertSame(MARSHALLER, opened.get(0).getResponseMarshaller());
    assertEquals(relay.getFullMethodName(), opened.get(0).getFullMethodName());
    assertEquals(MethodDescriptor.MethodType.BIDI_STREAMING, opened.get(0).getType());
    assertSame(other, opened.get(1));
  }

  private static MethodDescriptor<RelayFrame, RelayFrame> method(String name) {
    MethodDescriptor.Marshaller<RelayFrame> stock = new MethodDescriptor.Marshaller<>() {
      @Override
      public InputStream stream(RelayFrame value) {
        return new ByteArrayInputStream(value.toByteArray());
      }

      @Override
      public RelayFrame parse(InputStream stream) {
        throw new UnsupportedOperationException();
      }
    };
    return MethodDescriptor.<RelayFrame, RelayFrame>newBuilder()
        .setType(MethodDescriptor.MethodType.BIDI_STREAMING)
        .setFullMethodName(MethodDescriptor.generateFullMethodName("openshell.v1.OpenShell", name))
        .setRequestMarshaller(stock)
        .setResponseMarshaller(stock)
        .build();
  }

  private static final class KnownLengthStream extends InputStream implements KnownLength {
    private final byte[] bytes;
    private final int piece;
    private int position;

    KnownLengthStream(byte[] bytes, int piece) {
      this.bytes = bytes;
      this.piece = piece;
    }

    @Override
    public int available() {
      return bytes.length - position;
    }

    @Override
    public int read() {
      return position < bytes.length ? bytes[position++] & 0xff : -1;
    }

    @Override
    public int read(byte[] into, int offset, int length) {
      if (length == 0) return 0;
      if (position == bytes.length) return -1;
      int n = Math.min(Math.min(length, piece), bytes.length - position);
      System.arraycopy(bytes, position, into, offset, n);
      position += n;
      return n;
    }
  }
}
