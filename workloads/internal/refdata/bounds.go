package refdata

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"

	"github.com/klauspost/compress/zstd"
	"github.com/parquet-go/parquet-go/format"
)

// Bounds of a device-model file. parquet-go sizes its buffers by the
// lengths a file declares (the footer's, the thrift lists' and strings',
// the pages' and their compressed frames'), so a file of a few bytes could
// make it allocate gigabytes; ParseModels checks every such length against
// these bounds and the file's own size before parquet-go reads it.
const (
	// MaxModels is the most device models a file may hold.
	MaxModels = 1 << 16
	// maxFooterBytes bounds the file's metadata: a device-model file's is
	// a few KiB.
	maxFooterBytes = 1 << 20
	// maxUncompressedBytes bounds the pages' uncompressed sizes, summed
	// over the file.
	maxUncompressedBytes = 64 << 20
	// maxPageValues bounds the values one page declares.
	maxPageValues = 4 * MaxModels
	// maxThriftDepth bounds the nesting of the metadata's structures
	// (a file's is under ten deep).
	maxThriftDepth = 32
	// maxZstdWindow bounds a zstd frame's window, which the decoder
	// allocates (zstd's own levels use at most 8 MiB).
	maxZstdWindow = 16 << 20
)

// acceptedCodecs are the compressions whose output size is checked before
// parquet-go decompresses a page (checkCompressed). Other codecs (gzip, brotli, lz4) decompress without a bound in
// parquet-go and are refused.
var acceptedCodecs = map[format.CompressionCodec]bool{format.Uncompressed: true, format.Snappy: true, format.Zstd: true}

var magic = []byte("PAR1")

// footerOf returns the thrift-encoded metadata of file after checking the
// magic bytes and that the footer length fits in the file.
func footerOf(file []byte) ([]byte, error) {
	if len(file) < 12 || !bytes.Equal(file[:4], magic) || !bytes.Equal(file[len(file)-4:], magic) {
		return nil, errors.New("no PAR1 magic bytes at both ends")
	}
	n := uint64(binary.LittleEndian.Uint32(file[len(file)-8:]))
	if n > uint64(len(file)-12) || n > maxFooterBytes {
		return nil, fmt.Errorf("footer length %d does not fit a file of %d bytes (at most %d)", n, len(file), maxFooterBytes)
	}
	footer := file[len(file)-8-int(n) : len(file)-8]
	r := thriftReader{b: footer}
	if err := r.skip(typeStruct, false); err != nil {
		return nil, fmt.Errorf("footer: %w", err)
	}
	return footer, nil
}

// checkMetadata checks what parquet-go will allocate for once it reads
// the rows: the row counts, and every column chunk's codec, byte range
// and pages. dataEnd is where the footer begins.
func checkMetadata(md *format.FileMetaData, file []byte, dataEnd int64) error {
	if md.NumRows < 0 || md.NumRows > MaxModels {
		return fmt.Errorf("%d rows; a device-model file holds at most %d", md.NumRows, MaxModels)
	}
	var sum int64
	for i, rg := range md.RowGroups {
		if rg.NumRows < 0 || rg.NumRows > MaxModels {
			return fmt.Errorf("row group %d: %d rows; at most %d", i, rg.NumRows, MaxModels)
		}
		for j, c := range rg.Columns {
			m := c.MetaData
			if !acceptedCodecs[m.Codec] {
				return fmt.Errorf("row group %d column %d: compression %s is not accepted (write the file uncompressed, with snappy or with zstd)", i, j, m.Codec)
			}
			if first := md.RowGroups[0].Columns; j < len(first) && first[j].MetaData.Codec != m.Codec {
				return fmt.Errorf("row group %d column %d: compression %s differs from the first row group's %s", i, j, m.Codec, first[j].MetaData.Codec)
			}
			// Where parquet-go starts reading the chunk.
			start := m.DataPageOffset
			if m.DictionaryPageOffset != 0 {
				start = m.DictionaryPageOffset
			}
			if start < int64(len(magic)) || m.TotalCompressedSize < 0 || m.TotalCompressedSize > dataEnd-start {
				return fmt.Errorf("row group %d column %d: bytes %d+%d are not within the file's data", i, j, start, m.TotalCompressedSize)
			}
			n, err := checkPages(file[start:start+m.TotalCompressedSize], m.Codec)
			if err != nil {
				return fmt.Errorf("row group %d column %d: %w", i, j, err)
			}
			if sum += n; sum > maxUncompressedBytes {
				return fmt.Errorf("pages of more than %d bytes uncompressed", maxUncompressedBytes)
			}
		}
	}
	return nil
}

// checkPages walks a column chunk's pages and returns their uncompressed
// size.
func checkPages(chunk []byte, codec format.CompressionCodec) (int64, error) {
	var sum int64
	for pos := 0; pos < len(chunk); {
		h, n, err := readPageHeader(chunk[pos:])
		if err != nil {
			return 0, fmt.Errorf("page header at %d: %w", pos, err)
		}
		pos += n
		switch {
		case h.compressed < 0 || h.compressed > int64(len(chunk)-pos):
			return 0, fmt.Errorf("page at %d: %d compressed bytes where %d remain", pos, h.compressed, len(chunk)-pos)
		case h.uncompressed < 0 || h.uncompressed > maxUncompressedBytes:
			return 0, fmt.Errorf("page at %d: %d uncompressed bytes", pos, h.uncompressed)
		case h.values < 0 || h.values > maxPageValues:
			return 0, fmt.Errorf("page at %d: %d values; at most %d", pos, h.values, maxPageValues)
		case h.levels < 0 || h.levels > h.compressed:
			return 0, fmt.Errorf("page at %d: %d level bytes in a page of %d", pos, h.levels, h.compressed)
		}
		body := chunk[pos : pos+int(h.compressed)]
		if h.bodyCompressed {
			if err := checkCompressed(codec, body[h.levels:], h.uncompressed); err != nil {
				return 0, fmt.Errorf("page at %d: %w", pos, err)
			}
		}
		pos += int(h.compressed)
		sum += h.uncompressed
	}
	return sum, nil
}

// checkCompressed checks that data decompresses to at most limit bytes:
// a snappy block by the length it declares, which the decoder allocates;
// zstd frames, which may declare none, by decompressing them here with the
// output discarded and the window bounded.
func checkCompressed(codec format.CompressionCodec, data []byte, limit int64) error {
	switch codec {
	case format.Snappy:
		n, k := binary.Uvarint(data)
		if k <= 0 || n > uint64(limit) {
			return fmt.Errorf("snappy block of %d bytes in a page of %d", n, limit)
		}
	case format.Zstd:
		d, err := zstd.NewReader(bytes.NewReader(data), zstd.WithDecoderConcurrency(1), zstd.WithDecoderLowmem(true),
			zstd.WithDecoderMaxWindow(maxZstdWindow), zstd.WithDecoderMaxMemory(maxUncompressedBytes))
		if err != nil {
			return fmt.Errorf("zstd: %w", err)
		}
		defer d.Close()
		n, err := io.Copy(io.Discard, io.LimitReader(d, limit+1))
		if err != nil {
			return fmt.Errorf("zstd: %w", err)
		}
		if n > limit {
			return fmt.Errorf("zstd data of more than %d bytes in a page of %d", limit, limit)
		}
	}
	return nil
}

// pageHeader is what checkPages needs of a thrift PageHeader.
type pageHeader struct {
	uncompressed, compressed, values int64
	// levels are the leading bytes of a v2 data page stored uncompressed;
	// bodyCompressed is false for a v2 page that is not compressed.
	levels         int64
	bodyCompressed bool
}

func readPageHeader(b []byte) (pageHeader, int, error) {
	h := pageHeader{bodyCompressed: true}
	r := thriftReader{b: b}
	err := r.fields(func(id int16, typ byte) error {
		var err error
		switch {
		case id == 2 && typ == typeI32:
			h.uncompressed, err = r.varint()
		case id == 3 && typ == typeI32:
			h.compressed, err = r.varint()
		case (id == 5 || id == 7 || id == 8) && typ == typeStruct: // data, dictionary, data v2
			return r.fields(func(sub int16, typ byte) error {
				var v int64
				var err error
				switch {
				case sub == 1 && typ == typeI32:
					h.values, err = r.varint()
				case id == 8 && (sub == 5 || sub == 6) && typ == typeI32:
					v, err = r.varint()
					h.levels += v
				case id == 8 && sub == 7 && (typ == typeTrue || typ == typeFalse):
					h.bodyCompressed = typ == typeTrue
				default:
					err = r.skip(typ, false)
				}
				return err
			})
		default:
			err = r.skip(typ, false)
		}
		return err
	})
	return h, r.pos, err
}

// Thrift compact protocol types.
const (
	typeTrue   = 1
	typeFalse  = 2
	typeByte   = 3
	typeI16    = 4
	typeI32    = 5
	typeI64    = 6
	typeDouble = 7
	typeBinary = 8
	typeList   = 9
	typeSet    = 10
	typeMap    = 11
	typeStruct = 12
)

// thriftReader reads thrift's compact protocol and refuses every length
// longer than what is left to read (each element takes a byte at least),
// and nesting deeper than maxThriftDepth.
type thriftReader struct {
	b     []byte
	pos   int
	depth int
}

var errTruncated = errors.New("truncated thrift data")

func (r *thriftReader) byte() (byte, error) {
	if r.pos >= len(r.b) {
		return 0, errTruncated
	}
	r.pos++
	return r.b[r.pos-1], nil
}

func (r *thriftReader) uvarint() (uint64, error) {
	v, n := binary.Uvarint(r.b[r.pos:])
	if n <= 0 {
		return 0, errTruncated
	}
	r.pos += n
	return v, nil
}

// varint reads a zigzag-encoded integer.
func (r *thriftReader) varint() (int64, error) {
	u, err := r.uvarint()
	return int64(u>>1) ^ -int64(u&1), err
}

// need checks that n more bytes are there.
func (r *thriftReader) need(n uint64) error {
	if n > uint64(len(r.b)-r.pos) {
		return fmt.Errorf("a length of %d where %d bytes remain", n, len(r.b)-r.pos)
	}
	return nil
}

func (r *thriftReader) enter() error {
	if r.depth++; r.depth > maxThriftDepth {
		return fmt.Errorf("nested deeper than %d", maxThriftDepth)
	}
	return nil
}

// fields calls fn for each field of a struct; fn reads or skips the value.
func (r *thriftReader) fields(fn func(id int16, typ byte) error) error {
	if err := r.enter(); err != nil {
		return err
	}
	defer func() { r.depth-- }()
	var id int16
	for {
		b, err := r.byte()
		if err != nil {
			return err
		}
		if b == 0 {
			return nil
		}
		if delta := int16(b >> 4); delta != 0 {
			id += delta
		} else {
			v, err := r.varint()
			if err != nil {
				return err
			}
			id = int16(v)
		}
		if err := fn(id, b&0x0f); err != nil {
			return err
		}
	}
}

// skip reads past a value of typ; inList tells a list's booleans, which
// take a byte, from a field's, which live in its header.
func (r *thriftReader) skip(typ byte, inList bool) error {
	switch typ {
	case typeTrue, typeFalse:
		if inList {
			_, err := r.byte()
			return err
		}
		return nil
	case typeByte:
		_, err := r.byte()
		return err
	case typeI16, typeI32, typeI64:
		_, err := r.uvarint()
		return err
	case typeDouble:
		if err := r.need(8); err != nil {
			return err
		}
		r.pos += 8
		return nil
	case typeBinary:
		n, err := r.uvarint()
		if err != nil {
			return err
		}
		if err := r.need(n); err != nil {
			return err
		}
		r.pos += int(n)
		return nil
	case typeList, typeSet:
		b, err := r.byte()
		if err != nil {
			return err
		}
		n, elem := uint64(b>>4), b&0x0f
		if n == 15 {
			if n, err = r.uvarint(); err != nil {
				return err
			}
		}
		return r.elements(n, elem, 0)
	case typeMap:
		n, err := r.uvarint()
		if err != nil || n == 0 {
			return err
		}
		kv, err := r.byte()
		if err != nil {
			return err
		}
		return r.elements(n, kv>>4, kv&0x0f)
	case typeStruct:
		return r.fields(func(_ int16, typ byte) error { return r.skip(typ, false) })
	}
	return fmt.Errorf("unknown thrift type %d", typ)
}

// elements skips n elements of type a, or n pairs of a and b when b is
// not 0.
func (r *thriftReader) elements(n uint64, a, b byte) error {
	per := uint64(1)
	if b != 0 {
		per = 2
	}
	if n > uint64(len(r.b)) {
		return fmt.Errorf("%d elements in %d bytes", n, len(r.b))
	}
	if err := r.need(n * per); err != nil {
		return err
	}
	if err := r.enter(); err != nil {
		return err
	}
	defer func() { r.depth-- }()
	for range n {
		if err := r.skip(a, true); err != nil {
			return err
		}
		if b != 0 {
			if err := r.skip(b, true); err != nil {
				return err
			}
		}
	}
	return nil
}
