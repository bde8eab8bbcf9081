package compiler

import (
	"fmt"
	"maps"
	"slices"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/solver/pb"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// marshalDefinition is def as deterministic protobuf (the compile cache's and the plan
// file's encoding): the bytes proto.MarshalOptions{Deterministic: true}.Marshal(def.ToPB())
// gives (TestMarshalDefinitionIsProto), written straight from def. The reflection-driven
// deterministic encoder and ToPB's copy of every op's metadata were a twentieth of a cold
// compile. Messages without maps are written by their generated MarshalVT, whose bytes are
// deterministic when no map is involved; map entries are written sorted by key, each with
// its key and value, as the protobuf runtime writes them.
func marshalDefinition(def *llb.Definition) ([]byte, error) {
	b, err := appendDefinition(make([]byte, 0, definitionSizeHint(def)), def)
	if err != nil {
		return nil, fmt.Errorf("encode definition: %w", err)
	}
	return b, nil
}

// Field numbers of solver/pb's ops.proto.
const (
	fieldDefinitionDef      = 1
	fieldDefinitionMetadata = 2
	fieldDefinitionSource   = 3

	fieldOpMetadataIgnoreCache    = 1
	fieldOpMetadataDescription    = 2
	fieldOpMetadataExportCache    = 4
	fieldOpMetadataCaps           = 5
	fieldOpMetadataProgressGroup  = 6
	fieldOpMetadataLinuxResources = 7

	fieldSourceLocations = 1
	fieldSourceInfos     = 2

	fieldSourceInfoFilename   = 1
	fieldSourceInfoData       = 2
	fieldSourceInfoDefinition = 3
	fieldSourceInfoLanguage   = 4

	fieldMapKey   = 1
	fieldMapValue = 2
)

// definitionSizeHint is a guess at def's encoded size, to allocate once.
func definitionSizeHint(def *llb.Definition) int {
	n := 256 * len(def.Metadata)
	for _, op := range def.Def {
		n += len(op) + 4
	}
	if def.Source != nil {
		for _, si := range def.Source.Infos {
			n += len(si.Data) + len(si.Filename) + 16
		}
	}
	return n
}

func appendDefinition(b []byte, def *llb.Definition) ([]byte, error) {
	for _, op := range def.Def {
		b = protowire.AppendTag(b, fieldDefinitionDef, protowire.BytesType)
		b = protowire.AppendBytes(b, op)
	}
	var scratch []byte
	for _, k := range slices.Sorted(maps.Keys(def.Metadata)) {
		var err error
		if scratch, err = appendOpMetadata(scratch[:0], def.Metadata[k]); err != nil {
			return nil, err
		}
		b = appendMessageEntry(b, fieldDefinitionMetadata, string(k), scratch)
	}
	if def.Source != nil {
		src, err := appendSource(nil, def.Source)
		if err != nil {
			return nil, err
		}
		b = protowire.AppendTag(b, fieldDefinitionSource, protowire.BytesType)
		b = protowire.AppendBytes(b, src)
	}
	return b, nil
}

// appendMessageEntry appends the entry of a map<string, message> field: key, then the
// value's encoding msg.
func appendMessageEntry(b []byte, field protowire.Number, key string, msg []byte) []byte {
	size := protowire.SizeTag(fieldMapKey) + protowire.SizeBytes(len(key)) +
		protowire.SizeTag(fieldMapValue) + protowire.SizeBytes(len(msg))
	b = protowire.AppendTag(b, field, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(size))
	b = protowire.AppendTag(b, fieldMapKey, protowire.BytesType)
	b = protowire.AppendString(b, key)
	b = protowire.AppendTag(b, fieldMapValue, protowire.BytesType)
	return protowire.AppendBytes(b, msg)
}

func appendOpMetadata(b []byte, m llb.OpMetadata) ([]byte, error) {
	if m.IgnoreCache {
		b = protowire.AppendTag(b, fieldOpMetadataIgnoreCache, protowire.VarintType)
		b = protowire.AppendVarint(b, 1)
	}
	for _, k := range slices.Sorted(maps.Keys(m.Description)) {
		v := m.Description[k]
		b = protowire.AppendTag(b, fieldOpMetadataDescription, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(protowire.SizeTag(fieldMapKey)+protowire.SizeBytes(len(k))+
			protowire.SizeTag(fieldMapValue)+protowire.SizeBytes(len(v))))
		b = protowire.AppendTag(b, fieldMapKey, protowire.BytesType)
		b = protowire.AppendString(b, k)
		b = protowire.AppendTag(b, fieldMapValue, protowire.BytesType)
		b = protowire.AppendString(b, v)
	}
	var err error
	if m.ExportCache != nil {
		if b, err = appendVT(b, fieldOpMetadataExportCache, m.ExportCache); err != nil {
			return nil, err
		}
	}
	for _, id := range slices.Sorted(maps.Keys(m.Caps)) {
		k, v := string(id), uint64(0)
		if m.Caps[id] {
			v = 1
		}
		b = protowire.AppendTag(b, fieldOpMetadataCaps, protowire.BytesType)
		b = protowire.AppendVarint(b, uint64(protowire.SizeTag(fieldMapKey)+protowire.SizeBytes(len(k))+
			protowire.SizeTag(fieldMapValue)+protowire.SizeVarint(v)))
		b = protowire.AppendTag(b, fieldMapKey, protowire.BytesType)
		b = protowire.AppendString(b, k)
		b = protowire.AppendTag(b, fieldMapValue, protowire.VarintType)
		b = protowire.AppendVarint(b, v)
	}
	if m.ProgressGroup != nil {
		if b, err = appendVT(b, fieldOpMetadataProgressGroup, m.ProgressGroup); err != nil {
			return nil, err
		}
	}
	if m.LinuxResources != nil {
		if b, err = appendVT(b, fieldOpMetadataLinuxResources, m.LinuxResources); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func appendSource(b []byte, s *pb.Source) ([]byte, error) {
	var err error
	for _, k := range slices.Sorted(maps.Keys(s.Locations)) {
		var loc []byte
		if l := s.Locations[k]; l != nil {
			if loc, err = l.MarshalVT(); err != nil {
				return nil, err
			}
		}
		b = appendMessageEntry(b, fieldSourceLocations, k, loc)
	}
	for _, si := range s.Infos {
		info, err := appendSourceInfo(nil, si)
		if err != nil {
			return nil, err
		}
		b = protowire.AppendTag(b, fieldSourceInfos, protowire.BytesType)
		b = protowire.AppendBytes(b, info)
	}
	if len(s.ProtoReflect().GetUnknown()) > 0 {
		return nil, fmt.Errorf("source map has unknown fields")
	}
	return b, nil
}

func appendSourceInfo(b []byte, si *pb.SourceInfo) ([]byte, error) {
	if si == nil {
		return b, nil
	}
	if si.Filename != "" {
		b = protowire.AppendTag(b, fieldSourceInfoFilename, protowire.BytesType)
		b = protowire.AppendString(b, si.Filename)
	}
	if len(si.Data) > 0 {
		b = protowire.AppendTag(b, fieldSourceInfoData, protowire.BytesType)
		b = protowire.AppendBytes(b, si.Data)
	}
	if si.Definition != nil {
		// A source's own definition (a Dockerfile read from another build's result) is rare:
		// the runtime's encoder writes it.
		dt, err := proto.MarshalOptions{Deterministic: true}.Marshal(si.Definition)
		if err != nil {
			return nil, err
		}
		b = protowire.AppendTag(b, fieldSourceInfoDefinition, protowire.BytesType)
		b = protowire.AppendBytes(b, dt)
	}
	if si.Language != "" {
		b = protowire.AppendTag(b, fieldSourceInfoLanguage, protowire.BytesType)
		b = protowire.AppendString(b, si.Language)
	}
	if len(si.ProtoReflect().GetUnknown()) > 0 {
		return nil, fmt.Errorf("source info has unknown fields")
	}
	return b, nil
}

// vtMessage is a generated message without map fields.
type vtMessage interface {
	MarshalVT() ([]byte, error)
}

// appendVT appends the message field of m, a message without maps.
func appendVT(b []byte, field protowire.Number, m vtMessage) ([]byte, error) {
	dt, err := m.MarshalVT()
	if err != nil {
		return nil, err
	}
	b = protowire.AppendTag(b, field, protowire.BytesType)
	return protowire.AppendBytes(b, dt), nil
}
