package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
)

// apiClosure: the messages, enums and services reachable from some roots through fields and methods.
// Only these go into a descriptor set: loading a set costs time per type (protobufjs builds every type it
// is given), and the files' other messages, the validation rules in options and the annotation files
// are never needed to encode, decode or serve.
type apiClosure struct {
	messages map[protoreflect.FullName]protoreflect.MessageDescriptor
	enums    map[protoreflect.FullName]protoreflect.EnumDescriptor
	services map[protoreflect.FullName]protoreflect.ServiceDescriptor
}

func closure(roots []protoreflect.FullName) (*apiClosure, error) {
	c := &apiClosure{
		messages: map[protoreflect.FullName]protoreflect.MessageDescriptor{},
		enums:    map[protoreflect.FullName]protoreflect.EnumDescriptor{},
		services: map[protoreflect.FullName]protoreflect.ServiceDescriptor{},
	}
	for _, name := range roots {
		d, err := findDescriptor(name)
		if err != nil {
			return nil, err
		}
		switch d := d.(type) {
		case protoreflect.MessageDescriptor:
			c.addMessage(d)
		case protoreflect.ServiceDescriptor:
			c.services[d.FullName()] = d
			for i := 0; i < d.Methods().Len(); i++ {
				c.addMessage(d.Methods().Get(i).Input())
				c.addMessage(d.Methods().Get(i).Output())
			}
		default:
			return nil, fmt.Errorf("%s is neither a message nor a service", name)
		}
	}
	return c, nil
}

func (c *apiClosure) addMessage(md protoreflect.MessageDescriptor) {
	if _, ok := c.messages[md.FullName()]; ok {
		return
	}
	c.messages[md.FullName()] = md
	// A nested message needs its parent in the set, and a parent's fields need their types.
	if parent, ok := md.Parent().(protoreflect.MessageDescriptor); ok {
		c.addMessage(parent)
	}
	for i := 0; i < md.Fields().Len(); i++ {
		f := md.Fields().Get(i)
		if f.Message() != nil {
			c.addMessage(f.Message())
		}
		if f.Enum() != nil {
			c.enums[f.Enum().FullName()] = f.Enum()
			if parent, ok := f.Enum().Parent().(protoreflect.MessageDescriptor); ok {
				c.addMessage(parent)
			}
		}
	}
}

// sortedMessages: every message but map entries, by full name.
func (c *apiClosure) sortedMessages() []protoreflect.MessageDescriptor {
	out := make([]protoreflect.MessageDescriptor, 0, len(c.messages))
	for _, md := range c.messages {
		if !md.IsMapEntry() {
			out = append(out, md)
		}
	}
	sort.Slice(out, func(a, b int) bool { return out[a].FullName() < out[b].FullName() })
	return out
}

func (c *apiClosure) kept(name string) bool {
	full := protoreflect.FullName(strings.TrimPrefix(name, "."))
	_, m := c.messages[full]
	_, e := c.enums[full]
	_, s := c.services[full]
	return m || e || s
}

// files: each file holding a kept type, with only its kept types, no options, and the imports those need.
func (c *apiClosure) files() map[string]*descriptorpb.FileDescriptorProto {
	deps := map[string]map[string]bool{}
	sources := map[string]protoreflect.FileDescriptor{}
	note := func(from protoreflect.Descriptor, to protoreflect.Descriptor) {
		path := from.ParentFile().Path()
		if deps[path] == nil {
			deps[path] = map[string]bool{}
		}
		sources[path] = from.ParentFile()
		if to != nil && to.ParentFile().Path() != path {
			deps[path][to.ParentFile().Path()] = true
		}
	}
	for _, md := range c.messages {
		note(md, nil)
		for i := 0; i < md.Fields().Len(); i++ {
			if f := md.Fields().Get(i); f.Message() != nil {
				note(md, f.Message())
			} else if f.Enum() != nil {
				note(md, f.Enum())
			}
		}
	}
	for _, ed := range c.enums {
		note(ed, nil)
	}
	for _, sd := range c.services {
		for i := 0; i < sd.Methods().Len(); i++ {
			note(sd, sd.Methods().Get(i).Input())
			note(sd, sd.Methods().Get(i).Output())
		}
	}
	out := map[string]*descriptorpb.FileDescriptorProto{}
	for path, fd := range sources {
		fdp := protodesc.ToFileDescriptorProto(fd)
		prefix := "." + string(fd.Package())
		fdp.MessageType = c.pruneMessages(fdp.MessageType, prefix)
		fdp.EnumType = c.pruneEnums(fdp.EnumType, prefix)
		var services []*descriptorpb.ServiceDescriptorProto
		for _, s := range fdp.Service {
			if c.kept(prefix + "." + s.GetName()) {
				s.Options = nil
				for _, m := range s.Method {
					m.Options = nil
				}
				services = append(services, s)
			}
		}
		fdp.Service = services
		fdp.Extension = nil
		fdp.Options = nil
		fdp.SourceCodeInfo = nil
		fdp.PublicDependency, fdp.WeakDependency = nil, nil
		fdp.Dependency = nil
		for dep := range deps[path] {
			fdp.Dependency = append(fdp.Dependency, dep)
		}
		sort.Strings(fdp.Dependency)
		out[path] = fdp
	}
	return out
}

func (c *apiClosure) pruneMessages(in []*descriptorpb.DescriptorProto, scope string) []*descriptorpb.DescriptorProto {
	var out []*descriptorpb.DescriptorProto
	for _, m := range in {
		name := scope + "." + m.GetName()
		if !c.kept(name) {
			continue
		}
		// map_entry is the one option that changes the wire shape: it makes the field a map.
		if m.GetOptions().GetMapEntry() {
			m.Options = &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)}
		} else {
			m.Options = nil
		}
		m.Extension = nil
		m.ExtensionRange = nil
		// Reserved numbers and names guard a .proto file against reuse; encoding never reads them, and
		// protobufjs checks every field it adds against them.
		m.ReservedRange, m.ReservedName = nil, nil
		for _, f := range m.Field {
			f.Options = nil
			f.JsonName = nil
		}
		for _, o := range m.OneofDecl {
			o.Options = nil
		}
		m.NestedType = c.pruneMessages(m.NestedType, name)
		m.EnumType = c.pruneEnums(m.EnumType, name)
		out = append(out, m)
	}
	return out
}

func (c *apiClosure) pruneEnums(in []*descriptorpb.EnumDescriptorProto, scope string) []*descriptorpb.EnumDescriptorProto {
	var out []*descriptorpb.EnumDescriptorProto
	for _, e := range in {
		if c.kept(scope + "." + e.GetName()) {
			e.Options = nil
			e.ReservedRange, e.ReservedName = nil, nil
			for _, v := range e.Value {
				v.Options = nil
			}
			out = append(out, e)
		}
	}
	return out
}

// writeSet writes the files dependencies first; files at the same depth in path order, so every run
// gives the same bytes.
func writeSet(path string, c *apiClosure) error {
	files := c.files()
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	set := &descriptorpb.FileDescriptorSet{}
	done := map[string]bool{}
	var visit func(p string)
	visit = func(p string) {
		if done[p] {
			return
		}
		done[p] = true
		for _, dep := range files[p].Dependency {
			visit(dep)
		}
		set.File = append(set.File, files[p])
	}
	for _, p := range paths {
		visit(p)
	}
	bytes, err := proto.MarshalOptions{Deterministic: true}.Marshal(set)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	return os.WriteFile(path, bytes, 0o644)
}
