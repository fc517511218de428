import { useId } from 'react';
import type { InputHTMLAttributes, ReactNode } from 'react';

interface Described {
  label: string;
  hint?: string;
  error?: string | undefined;
}

/** A labelled input with an optional hint and error, wired with aria-describedby. */
export function Field({ label, hint, error, ...input }: Described & InputHTMLAttributes<HTMLInputElement>) {
  return <Labeled label={label} hint={hint} error={error}>{(props) => <input {...input} {...props} />}</Labeled>;
}

/** The label/hint/error frame for any control (select, textarea…): `children` gets the id and aria props. */
export function Labeled({
  label,
  hint,
  error,
  children,
}: Described & { children: (props: { id: string; 'aria-describedby'?: string; 'aria-invalid'?: boolean }) => ReactNode }) {
  const id = useId();
  const described = [hint ? `${id}-hint` : '', error ? `${id}-error` : ''].filter(Boolean).join(' ');
  return (
    <div className="field">
      <label htmlFor={id}>{label}</label>
      {children({ id, ...(described ? { 'aria-describedby': described } : {}), ...(error ? { 'aria-invalid': true } : {}) })}
      {hint && <p className="field-hint" id={`${id}-hint`}>{hint}</p>}
      {error && <p className="field-error" id={`${id}-error`}>{error}</p>}
    </div>
  );
}
