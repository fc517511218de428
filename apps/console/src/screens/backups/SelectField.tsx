// A labelled <select> over a list of values, optionally with a first "any" choice (empty value).
import { Labeled } from '../../components/Field';

/** Props of SelectField: `options` are values shown as themselves unless `labelOf` says otherwise. */
export interface SelectFieldProps<V extends string> {
  label: string;
  hint?: string;
  value: V | '';
  options: readonly V[];
  onChange: (value: V | '') => void;
  /** The label of the empty choice ("All sources"); none when absent. */
  any?: string;
  labelOf?: (value: V) => string;
}

/** A select field for filters and forms. */
export function SelectField<V extends string>({ label, hint, value, options, onChange, any, labelOf = (v) => v }: SelectFieldProps<V>) {
  return (
    <Labeled label={label} hint={hint}>
      {(props) => (
        <select {...props} value={value} onChange={(e) => onChange(e.target.value as V | '')}>
          {any !== undefined && <option value="">{any}</option>}
          {options.map((o) => (
            <option key={o} value={o}>
              {labelOf(o)}
            </option>
          ))}
        </select>
      )}
    </Labeled>
  );
}
