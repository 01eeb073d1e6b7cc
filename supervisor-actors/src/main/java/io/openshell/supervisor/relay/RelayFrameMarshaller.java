package io.openshell.supervisor.relay;

import com.google.protobuf.ByteOutput;
import com.google.protobuf.ByteString;
import com.google.protobuf.CodedInputStream;
import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.UnsafeByteOperations;
import com.google.protobuf.WireFormat;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.Drainable;
import io.grpc.KnownLength;
import io.grpc.MethodDescriptor;
import io.grpc.Status;
import io.openshell.protocol.v1.RelayFrame;
import java.io.ByteArrayInputStream;
import java.io.EOFException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;

/**
 * {@code RelayFrame}s on the supervisor's gRPC channel with one copy of the relayed bytes each way.
 * pekko-grpc's marshaller copied each outgoing frame twice before grpc-java's netty buffer (the frame
 * into an array, that array through a scratch buffer) and each incoming one twice after it (through
 * protobuf's stream decoder into the frame): a bulk relay is CPU-bound in the supervisor
 * (docs/benchmarks.md).
 *
 * <p>Out: the stream is {@link Drainable} and {@link KnownLength}, so grpc-java asks its length and
 * drains it into the netty buffer; a data frame is written as its tag and length followed by the data
 * straight from the frame's array. In: the message, which grpc-java knows the length of, is read into
 * one fresh array and parsed with aliasing, so the frame's data is a view of that array (nothing else
 * holds it) and {@link RelayBytes#fromFrameData} hands it on as it is. The bytes on the wire are
 * exactly the protobuf encoding of {@code RelayFrame}: the gateway cannot tell the difference.
 */
public final class RelayFrameMarshaller implements MethodDescriptor.Marshaller<RelayFrame> {
  static final RelayFrameMarshaller INSTANCE = new RelayFrameMarshaller();

  /** Field 2's tag (1 byte) and a varint length (at most 5). */
  private static final int DATA_HEADER_MAX = 6;

  private RelayFrameMarshaller() {}

  /**
   * Makes the calls of {@code fullMethodName} (the supervisor's {@code RelayStream}, whose messages are
   * {@code RelayFrame}s both ways) use this marshaller instead of the generated client's, whoever
   * opens them on the channel; other calls are left alone. The call and its connection do not change.
   */
  public static ClientInterceptor interceptor(String fullMethodName) {
    return new ClientInterceptor() {
      @Override
      public <I, O> ClientCall<I, O> interceptCall(MethodDescriptor<I, O> method, CallOptions options, Channel next) {
        if (!method.getFullMethodName().equals(fullMethodName)) return next.newCall(method, options);
        @SuppressWarnings("unchecked") // the relay method carries RelayFrames in both directions
        MethodDescriptor<I, O> relay = (MethodDescriptor<I, O>) method.toBuilder(INSTANCE, INSTANCE).build();
        return next.newCall(relay, options);
      }
    };
  }

  @Override
  public InputStream stream(RelayFrame frame) {
    return new FrameStream(frame);
  }

  @Override
  public RelayFrame parse(InputStream stream) {
    try {
      CodedInputStream input = UnsafeByteOperations.unsafeWrap(readMessage(stream)).newCodedInput();
      // bytes fields become views of the message's array instead of copies of it
      input.enableAliasing(true);
      return RelayFrame.parseFrom(input);
    } catch (InvalidProtocolBufferException e) {
      throw Status.INTERNAL.withDescription("invalid RelayFrame").withCause(e).asRuntimeException();
    } catch (IOException e) {
      throw Status.INTERNAL.withDescription("cannot read a RelayFrame").withCause(e).asRuntimeException();
    }
  }

  private static byte[] readMessage(InputStream stream) throws IOException {
    if (!(stream instanceof KnownLength)) return stream.readAllBytes();
    byte[] message = new byte[stream.available()];
    int read = stream.readNBytes(message, 0, message.length);
    if (read != message.length) throw new EOFException("message ended after " + read + " of " + message.length + " bytes");
    return message;
  }

  /**
   * One frame's encoding, drained once by grpc-java. A reader that calls {@code read} instead (never
   * grpc-java's framer, which drains) gets the same bytes from a serialized copy.
   */
  private static final class FrameStream extends InputStream implements Drainable, KnownLength {
    /** Not yet drained or read. */
    private RelayFrame frame;
    /** The rest of the encoding once {@code read} has begun (or nothing, once drained). */
    private InputStream rest;

    FrameStream(RelayFrame frame) {
      this.frame = frame;
    }

    @Override
    public int drainTo(OutputStream target) throws IOException {
      if (frame == null) return (int) rest.transferTo(target);
      RelayFrame draining = frame;
      frame = null;
      rest = InputStream.nullInputStream();
      ByteString data = draining.getData();
      // Only data and nothing else (no unknown fields): then the encoding is exactly tag, length, data.
      if (draining.getPayloadCase() != RelayFrame.PayloadCase.DATA
          || draining.getSerializedSize() != CodedOutputStream.computeBytesSize(RelayFrame.DATA_FIELD_NUMBER, data)) {
        byte[] encoded = draining.toByteArray();
        target.write(encoded);
        return encoded.length;
      }
      byte[] header = new byte[DATA_HEADER_MAX];
      CodedOutputStream headerOut = CodedOutputStream.newInstance(header);
      headerOut.writeTag(RelayFrame.DATA_FIELD_NUMBER, WireFormat.WIRETYPE_LENGTH_DELIMITED);
      headerOut.writeUInt32NoTag(data.size());
      int headerLength = header.length - headerOut.spaceLeft();
      target.write(header, 0, headerLength);
      UnsafeByteOperations.unsafeWriteTo(data, new StreamOutput(target));
      return headerLength + data.size();
    }

    @Override
    public int available() throws IOException {
      return frame != null ? frame.getSerializedSize() : rest.available();
    }

    @Override
    public int read() throws IOException {
      return reading().read();
    }

    @Override
    public int read(byte[] bytes, int offset, int length) throws IOException {
      return reading().read(bytes, offset, length);
    }

    private InputStream reading() {
      if (frame != null) {
        rest = new ByteArrayInputStream(frame.toByteArray());
        frame = null;
      }
      return rest;
    }
  }

  /** Hands protobuf's pieces of the data to the target as they are: the arrays themselves, no scratch copy. */
  private static final class StreamOutput extends ByteOutput {
    private final OutputStream target;

    StreamOutput(OutputStream target) {
      this.target = target;
    }

    @Override
    public void write(byte value) throws IOException {
      target.write(value);
    }

    @Override
    public void write(byte[] value, int offset, int length) throws IOException {
      target.write(value, offset, length);
    }

    @Override
    public void writeLazy(byte[] value, int offset, int length) throws IOException {
      target.write(value, offset, length);
    }

    @Override
    public void write(ByteBuffer value) throws IOException {
      if (value.hasArray()) {
        target.write(value.array(), value.arrayOffset() + value.position(), value.remaining());
        value.position(value.limit());
        return;
      }
      // Direct or read-only: only a copy can reach an OutputStream.
      byte[] chunk = new byte[Math.min(value.remaining(), 16 * 1024)];
      while (value.hasRemaining()) {
        int length = Math.min(chunk.length, value.remaining());
        value.get(chunk, 0, length);
        target.write(chunk, 0, length);
      }
    }

    @Override
    public void writeLazy(ByteBuffer value) throws IOException {
      write(value);
    }
  }
}
